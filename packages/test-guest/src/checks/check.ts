/**
 * A guest check: a shell function run by the test guest's /init when its name appears in
 * `vmmtest=` on the kernel command line.
 *
 * The body runs in busybox sh with `$VMMTEST_CHECK` set to the name, after proc, sysfs and
 * devtmpfs are mounted and the modules are loaded. It reports exactly one result with
 * `vmmtest_result true|false '"key":value,...'`, which prints
 * `VMMTEST {"check":"<name>","ok":<bool>,<fields>}` on the console and marks the run failed
 * when ok is false. `$VMMTEST_UPTIME` holds /proc/uptime's first field read when /init began.
 */
export interface CheckDefinition {
  /** Name used in `vmmtest=`; lowercase letters, digits and "_". */
  readonly name: string;
  /** One line for humans (README, CLI help). */
  readonly description: string;
  /** The body of the shell function `check_<name>`. */
  readonly shell: string;
}

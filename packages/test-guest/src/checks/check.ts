/**
 * A guest check: a shell function run by the test guest's /init when its name appears in
 * `vmmtest=` on the kernel command line.
 *
 * The body runs in busybox sh with `$VMMTEST_CHECK` set to the name, after proc, sysfs and
 * devtmpfs are mounted and the modules are loaded. It reports exactly one result with
 * `vmmtest_result true|false '"key":value,...'`, which prints
 * `VMMTEST {"check":"<name>","ok":<bool>,<fields>}` on the console and marks the run failed
 * when ok is false. `$VMMTEST_UPTIME` holds /proc/uptime's first field read when /init began.
 * Helpers: `vmmtest_param NAME DEFAULT` prints the value of `vmmtest.NAME=` on the kernel
 * command line (`$VMMTEST_CMDLINE`, default /proc/cmdline) or DEFAULT; `vmmtest_try STEP cmd...`
 * runs cmd (stdout in /tmp/vmmtest.out) unless `$VMMTEST_ERR` is already set, and on failure
 * sets `$VMMTEST_ERR` to "STEP: <stderr>" made JSON-safe. `$VMMTEST_ERR` is empty when a check starts.
 */
export interface CheckDefinition {
  /** Name used in `vmmtest=`; lowercase letters, digits and "_". */
  readonly name: string;
  /** One line for humans (README, CLI help). */
  readonly description: string;
  /** The body of the shell function `check_<name>`. */
  readonly shell: string;
}

// The executable's output on pipes and files: a reader that quits early, a
// full disk, and a pipe shared by stdout and stderr that its reader set to
// non-blocking mode.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ffvmBin } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "ffvm-output-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

// 1000 pinned sites that share a match: pattern: a plan of 2000 lines on
// stdout, more than a pipe holds, and 999 warnings on stderr.
const config = join(dir, "sites.yaml");
const sites = Array.from({ length: 1000 }, (_, index) => `  s${index}:\n    url: https://s${index}.example/\n    pinned: true\n    match: [shared.example]\n`);
writeFileSync(config, `sites:\n${sites.join("")}image:\n  runner: /bin/false\n`);
const dryRun = ["reconcile", "--dry-run", "--config", config, "--state-dir", join(dir, "state")];
const env = { ...process.env, NO_COLOR: "1" };

describe("output of the executable", () => {
  it("exits 141 quietly when reader quits", () => {
    const script = `node ${ffvmBin} ${dryRun.join(" ")} 2>${dir}/stderr | head -1 >/dev/null; echo \${PIPESTATUS[0]}`;
    expect(execFileSync("bash", ["-c", script], { encoding: "utf8", env }).trim()).toBe("141");
    expect(readFileSync(join(dir, "stderr"), "utf8")).not.toMatch(/Error|at /);
  });

  it("reports failed write in one line", () => {
    const result = spawnSync("bash", ["-c", `node ${ffvmBin} --help >/dev/full`], { encoding: "utf8", env });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe("ffvm: cannot write to stdout: ENOSPC: no space left on device, write\n");
  });

  it("keeps order on shared non-blocking pipe", () => {
    // Perl is part of every Debian system. Node cannot set this up, because its child processes get blocking pipes.
    const perl = [
      "use Fcntl;",
      "pipe(my $r, my $w) or die;",
      "fcntl($w, F_SETFL, fcntl($w, F_GETFL, 0) | O_NONBLOCK) or die;",
      "my $pid = fork();",
      'if ($pid == 0) { close $r; open(STDOUT, ">&", $w) or die; open(STDERR, ">&", $w) or die; exec(@ARGV) or die; }',
      "close $w; sleep 1; local $/; my $all = <$r>; waitpid($pid, 0); print $all; exit($? >> 8);",
    ].join("\n");
    const shared = spawnSync("perl", ["-e", perl, "node", ffvmBin, ...dryRun], { encoding: "utf8", env, maxBuffer: 64 * 1024 * 1024 });
    expect(shared.status).toBe(0);
    const file = join(dir, "both");
    execFileSync("bash", ["-c", `node ${ffvmBin} ${dryRun.join(" ")} >${file} 2>&1`], { env });
    expect(shared.stdout).toBe(readFileSync(file, "utf8"));
  });

  it("prints config warnings once", () => {
    const result = spawnSync("node", [ffvmBin, ...dryRun], { encoding: "utf8", env });
    const warnings = result.stderr.split("\n").filter((line) => line.includes("shared.example"));
    expect(warnings).toHaveLength(999);
    expect(warnings[0]).toBe(`${config}:9:13: warning: sites.s1.match.0: pattern "shared.example" is also listed by site s0, so its links open in s0; list the pattern under one site only`);
  });
});

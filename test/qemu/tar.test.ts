import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { buildTar } from "../../src/qemu/tar.js";

describe("buildTar", () => {
  it("round-trips through GNU tar", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ffvm-tar-"));
    const url = "https://example.org/a b,c&d=\"e\" é☃";
    const binary = Buffer.from(Array.from({ length: 1500 }, (_, index) => index % 256));
    const archive = buildTar([
      { name: "url", content: Buffer.from(url) },
      { name: "addons/0-x.xpi", content: binary },
      { name: "empty", content: Buffer.alloc(0) },
    ]);
    expect(archive.length % 512).toBe(0);
    writeFileSync(join(dir, "site.tar"), archive);

    const listing = await execa("tar", ["-tvf", "site.tar"], { cwd: dir });
    expect(listing.stdout.split("\n").map((line) => line.split(/\s+/).at(-1))).toEqual(["url", "addons/0-x.xpi", "empty"]);
    await execa("tar", ["-xf", "site.tar"], { cwd: dir });
    expect(readFileSync(join(dir, "url"), "utf8")).toBe(url);
    expect(readFileSync(join(dir, "addons/0-x.xpi"))).toEqual(binary);
    expect(statSync(join(dir, "url")).mode & 0o777).toBe(0o600);
  });

  it("gives equal archives for equal input", () => {
    const members = [{ name: "url", content: Buffer.from("https://a.example") }];
    expect(buildTar(members).equals(buildTar(members))).toBe(true);
  });

  it("rejects unsafe member names", () => {
    expect(() => buildTar([{ name: "a b", content: Buffer.alloc(0) }])).toThrow('invalid tar member name "a b"');
    expect(() => buildTar([{ name: "x".repeat(101), content: Buffer.alloc(0) }])).toThrow(/invalid tar member name/);
  });
});

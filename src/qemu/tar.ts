// A minimal ustar writer for the fw_cfg site archive; regular files only.

export interface TarMember {
  name: string;
  content: Uint8Array;
  /** Permission bits; 0600 by default. */
  mode?: number;
}

const blockSize = 512;

/** Builds a ustar archive. Member names must be ASCII and at most 100 bytes. */
export const buildTar = (members: readonly TarMember[]): Buffer => {
  const parts: Buffer[] = [];
  for (const member of members) {
    parts.push(buildHeader(member), Buffer.from(member.content), padding(member.content.length));
  }
  parts.push(Buffer.alloc(blockSize * 2));
  return Buffer.concat(parts);
};

const buildHeader = (member: TarMember): Buffer => {
  if (!/^[\x21-\x7e]{1,100}$/.test(member.name)) throw new Error(`invalid tar member name ${JSON.stringify(member.name)}`);
  const header = Buffer.alloc(blockSize);
  header.write(member.name, 0, 100, "ascii");
  writeOctal(header, 100, 8, member.mode ?? 0o600);
  writeOctal(header, 108, 8, 0); // uid
  writeOctal(header, 116, 8, 0); // gid
  writeOctal(header, 124, 12, member.content.length);
  writeOctal(header, 136, 12, 0); // mtime: fixed, so equal inputs give equal archives
  header.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  header.write("0", 156, 1, "ascii"); // regular file
  header.write("ustar\u000000", 257, 8, "ascii");
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  header.write(`${checksum.toString(8).padStart(6, "0")}\u0000 `, 148, 8, "ascii");
  return header;
};

const writeOctal = (header: Buffer, offset: number, length: number, value: number): void => {
  const text = value.toString(8).padStart(length - 1, "0");
  if (text.length > length - 1) throw new Error(`tar field too small for ${value}`);
  header.write(`${text}\u0000`, offset, length, "ascii");
};

const padding = (length: number): Buffer => Buffer.alloc((blockSize - (length % blockSize)) % blockSize);

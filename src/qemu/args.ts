// QEMU arguments ffvm appends to the runner's own. The runner passes them to
// QEMU last and unchanged, so a later -m, -smp or -name wins over the image's
// default. No text from sites.yaml appears here except the validated site name
// and numbers: everything else reaches the guest through the fw_cfg archive.

import type { Site } from "../config/types.js";
import { siteFwCfgName } from "../bundle/site-archive.js";
import { qemuNameFor } from "../observe/processes.js";

/** Files of one running VM, all inside its run directory. */
export interface RunFiles {
  dir: string;
  archive: string;
  qmpSocket: string;
  pidFile: string;
  serialLog: string;
  qemuLog: string;
  passtSocket: string;
  passtPidFile: string;
  /** Host end of the virtio-serial port org.ffvm.open; each line written is a URL the guest opens. */
  openSocket: string;
  passtLog: string;
  tmp: string;
}

// sockaddr_un.sun_path is 108 bytes, including the final NUL.
export const maxSocketPathBytes = 107;

/** Returns the run files of a VM given its run directory. */
export const runFilesIn = (dir: string): RunFiles => ({
  dir,
  archive: `${dir}/site.tar`,
  qmpSocket: `${dir}/qmp.sock`,
  pidFile: `${dir}/qemu.pid`,
  serialLog: `${dir}/serial.log`,
  qemuLog: `${dir}/qemu.log`,
  passtSocket: `${dir}/passt.sock`,
  passtPidFile: `${dir}/passt.pid`,
  openSocket: `${dir}/open.sock`,
  passtLog: `${dir}/passt.log`,
  tmp: `${dir}/tmp`,
});

// QEMU's option parser splits on commas; a doubled comma stands for one.
export const escapeOptionValue = (value: string): string => value.replaceAll(",", ",,");

/**
 * Returns the -qmp value of a VM. It contains the path of the run directory, so
 * it distinguishes the VMs of one site name in two state directories.
 */
export const qmpOption = (files: RunFiles): string => `unix:${escapeOptionValue(files.qmpSocket)},server=on,wait=off`;

/** Builds the arguments ffvm passes after the runner for one site's VM. */
export const buildQemuArgs = (site: Site, files: RunFiles): string[] => {
  for (const socket of [files.qmpSocket, files.passtSocket, files.openSocket]) {
    if (Buffer.byteLength(socket) > maxSocketPathBytes) {
      throw new Error(`socket path ${socket} is longer than ${maxSocketPathBytes} bytes, the limit of a unix socket path; use a shorter --state-dir`);
    }
  }
  const args = [
    "-name", qemuNameFor(site.name),
    "-m", String(site.memory),
    "-smp", String(site.cpus),
    "-fw_cfg", `name=${siteFwCfgName},file=${escapeOptionValue(files.archive)}`,
    "-qmp", qmpOption(files),
    "-pidfile", files.pidFile,
    "-serial", `file:${files.serialLog}`,
    // Deny QEMU the system calls a guest escape would use first: new
    // privileges, spawning processes, changing resource limits.
    "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
    "-netdev", `stream,id=ffvm-net,server=off,addr.type=unix,addr.path=${escapeOptionValue(files.passtSocket)}`,
    "-device", "virtio-net-pci,netdev=ffvm-net",
    // A channel for opening links in the running VM; the guest reads URLs from
    // /dev/virtio-ports/org.ffvm.open.
    "-chardev", `socket,id=ffvm-open,path=${escapeOptionValue(files.openSocket)},server=on,wait=off`,
    "-device", "virtio-serial-pci,id=ffvm-serial",
    "-device", "virtserialport,bus=ffvm-serial.0,chardev=ffvm-open,name=org.ffvm.open",
  ];
  if (site.audio) {
    args.push("-audiodev", "pa,id=ffvm-audio", "-device", "intel-hda", "-device", "hda-duplex,audiodev=ffvm-audio");
  }
  return args;
};

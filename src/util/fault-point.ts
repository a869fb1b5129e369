// Named fault points, a test hook for crash tests. When the environment
// variable FFVM_FAULT_POINT equals the name of a point, the process kills
// itself with SIGKILL on reaching it, as `kill -9` or a power loss would. A
// test then checks that the next reconcile repairs what the killed one left.
// Without the variable a point costs one comparison.

/** Every fault point, in the order an apply reaches them. */
export const faultPointNames = [
  // create-disk: qemu-img has written <disk>.creating, which is not linked yet.
  "disk-create-before-link",
  // create-disk: the disk and <disk>.creating are two links of one file.
  "disk-create-after-link",
  // start-vm: the record with pid 0 exists; passt and QEMU do not.
  "vm-start-after-record",
  // start-vm: passt listens; QEMU is not spawned.
  "vm-start-after-passt",
  // start-vm: the runner is spawned, and the record still contains pid 0.
  "vm-start-after-spawn",
  // start-vm: QEMU replies on QMP, and the record still contains pid 0.
  "vm-start-after-qmp",
  // stop-vm: QEMU has exited; its record and run files remain.
  "vm-stop-after-exit",
  // trash-disk: the disk is in trash/; the rename is not synced, the record remains.
  "disk-trash-after-rename",
  // build-image: nix has built the image; image.json still names the previous one.
  "image-build-after-nix",
] as const;

export type FaultPointName = (typeof faultPointNames)[number];

/** Kills the process with SIGKILL when FFVM_FAULT_POINT is `name`; a test hook. */
export const faultPoint = (name: FaultPointName): void => {
  if (process.env.FFVM_FAULT_POINT === name) process.kill(process.pid, "SIGKILL");
};

// Reason codes: why the plan contains an action. Tests assert on the code; people read the message.

export const reasons = {
  ImageNeverBuilt: "no image has been built yet",
  ImageChanged: "the image source changed since the last build",
  ImageMissing: "the last built image is gone from the nix store",
  DiskMissing: "the site has no disk",
  DiskInTrash: "the site has no disk, but its disk is in trash",
  SizeIncreased: "the configured disk size grew",
  PinnedNotRunning: "the site is pinned and its VM is not running",
  OpenRequested: "a start of the site was requested",
  SettingsChanged: "the site's settings changed since its VM started",
  ImageOutdated: "the VM runs an older image",
  StopRequested: "a stop of the site was requested",
  SiteRemoved: "the site is no longer listed",
  TrashExpired: "the trashed disk is older than the retention period",
  SiteOnOtherHost: "the site is listed for other machines only",
  DisposableEnded: "the disposable VM has stopped",
  ResetDue: "a scheduled reset of the site's disk is due",
} as const;

export type ReasonCode = keyof typeof reasons;

#!/bin/sh
# own_root.sh: runs COMMAND with a root file system of its own, a test's stand-in for another
# machine: / (the root file system alone) is the lower layer of an overlay whose upper layer is a
# tmpfs, so what COMMAND installs or writes stays in its view and goes with it. /proc, /sys, /dev
# and /tmp (and $TMPDIR) are the machine's, so the test can hand files over; /run is a tmpfs of its
# own.
# Run it as root in a mount namespace of its own: unshare --mount --propagation private.
# Usage: own_root.sh COMMAND [ARGUMENT...]
set -eu
mount -t tmpfs -o mode=0755 tfmath-own-root /mnt
mkdir /mnt/upper /mnt/work /mnt/root
mount -t overlay tfmath-own-root -o lowerdir=/,upperdir=/mnt/upper,workdir=/mnt/work /mnt/root
mount --rbind /proc /mnt/root/proc
mount --rbind /sys /mnt/root/sys
mount --rbind /dev /mnt/root/dev
mount --rbind /tmp /mnt/root/tmp
if [ -n "${TMPDIR:-}" ] && [ "$TMPDIR" != /tmp ]; then
  mkdir -p "/mnt/root$TMPDIR"
  mount --rbind "$TMPDIR" "/mnt/root$TMPDIR"
fi
mount -t tmpfs -o mode=0755 tfmath-own-run /mnt/root/run
mkdir /mnt/root/run/sshd  # sshd's privilege separation folder
exec chroot /mnt/root "$@"

#!/bin/busybox sh
# shellcheck shell=dash
# /init of the kernel-test initramfs: mount the pseudo filesystems, bring up
# loopback, run the guest checks (results go to the second serial port),
# power off. The console (first serial port) keeps the kernel's messages.
/bin/busybox --install -s /bin
export PATH=/usr/bin:/bin HOME=/root DENO_DIR=/root/deno NO_COLOR=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t securityfs securityfs /sys/kernel/security
ip link set lo up
# nobody gets its own copy of the seeded Deno cache (see initramfs.ts).
mkdir -p /var/lib/nobody && cp -a /root/deno /var/lib/nobody/deno && chown -R 65534:65534 /var/lib/nobody
echo "llk-init: up $(cut -d' ' -f1 /proc/uptime)s, $(uname -r)"
cd /project && deno run --allow-all tests/kernels/guest.ts /dev/ttyS1
echo "llk-init: guest exited $?, $(cut -d' ' -f1 /proc/uptime)s"
poweroff -f

# pivot_root inside: its refusals (ENOTDIR, ENOENT, EINVAL for a new root
# that is not a mount point or a put_old outside it, EBUSY on the root's
# own mount), then a pivot into a tmpfs holding busybox: the old root seen
# at put_old, the caller's working directory kept, another process's root
# and working directory moved, mounts listed from the new root, and a lazy
# unmount of the old root leaving only the new ones; then runc's way,
# pivot_root(".", ".") and a lazy unmount of ".". Natively it runs in a
# private mount namespace (tests/tests/filesystems.rs), where the pivot
# changes nothing outside; the scratch directory is removed through the
# old root.
d=$(mktemp -d /tmp/runsc-pivot.XXXXXX)
mount -t tmpfs -o mode=0755 none "$d"
mkdir "$d/bin" "$d/old" "$d/proc" "$d/sub" "$d/sub2"
cp /usr/bin/busybox "$d/bin/busybox"
for a in sh cat ls awk grep wc mount umount rmdir readlink kill pwd cp ln mkdir; do ln -s busybox "$d/bin/$a"; done
echo new root > "$d/marker"
err() { pivot_root "$@" 2>&1 | sed 's/.*: //'; }
err "$d/marker" "$d/old"
err "$d/missing" "$d/old"
err "$d/sub" "$d/sub/.."
err / "$d/old"
err "$d" /etc
mount -t tmpfs none "$d/sub2"
err "$d/sub2" "$d/old"
umount "$d/sub2"
mkfifo "$d/fifo"
(cd / && echo > "$d/up" && read -r x < "$d/fifo") &
S=$!
while [ ! -e "$d/up" ]; do :; done
cd "$d"
pivot_root . old && echo pivoted
D=$d S=$S PATH=/bin exec /bin/busybox sh -c '
pwd
cat /marker
ls /
test -e /old/etc/passwd && echo old root at /old
mount -t proc proc /proc
readlink /proc/$S/root
readlink /proc/$S/cwd
kill $S
awk "\$5 == \"/\" {print \$8}" /proc/self/mountinfo
grep -c " /old " /proc/self/mounts
rmdir /old$D
umount -l /old && echo detached
ls -A /old | wc -l
awk "{print \$5, \$8}" /proc/self/mountinfo
mount -t tmpfs none /sub && mkdir /sub/bin /sub/proc && cp /bin/busybox /sub/bin/
for a in sh cat ls awk mount; do ln -s busybox /sub/bin/$a; done
echo second root > /sub/marker
cd /sub && pivot_root . . && umount -l . && cd / && echo pivoted onto itself
cat /marker
ls /
mount -t proc proc /proc
awk "{print \$5, \$8}" /proc/self/mountinfo
'

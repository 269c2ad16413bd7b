# mount and umount inside: tmpfs with size= and mode=, ENOSPC, bind mounts of
# a directory and a file, EBUSY, remount ro and rw. Natively it runs in a
# private mount namespace (tests/tests/filesystems.rs).
d=$(mktemp -d /tmp/runsc-mnt.XXXXXX)
mount -t tmpfs -o size=1m,mode=0700 none $d && echo mounted
stat -c '%a %F' $d
df -k $d | tail -1 | awk '{print $2, $3}'
dd if=/dev/zero of=$d/f bs=1k count=2000 2>&1 | grep -o 'No space left on device'
rm $d/f
grep " $d " /proc/mounts | awk '{print $3}'
mkdir $d/b && echo x > $d/src && touch $d/dst
mount --bind /etc $d/b && ls $d/b/passwd > /dev/null && echo bind works
mount --bind $d/src $d/dst && cat $d/dst
umount $d/dst; cat $d/dst | wc -c
umount $d 2>&1 | sed 's/.*: //'
umount $d/b
mount -o remount,ro $d && touch $d/g 2>&1 | sed 's/.*: //'
mount -o remount,rw $d && touch $d/g && echo writable again
umount $d && ls -A $d | wc -l
rmdir $d

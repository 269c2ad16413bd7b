# mount and umount inside: tmpfs with size= and mode=, ENOSPC, bind mounts of
# a directory and a file, EBUSY, remount ro and rw, a mount made under a
# directory after it was bound elsewhere (not seen through the bind),
# recursive binds (one onto itself), moves (and ELOOP into itself), lazy
# unmounts. Natively it runs in a private mount namespace
# (tests/tests/filesystems.rs).
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
# Binds and mounts below them.
mount -t tmpfs none $d && mkdir -p $d/a/sub $d/view $d/rview $d/moved
echo top > $d/a/sub/f
mount --bind $d/a $d/view
mount -t tmpfs none $d/a/sub && echo inner > $d/a/sub/g
ls $d/a/sub | tr '\n' ' '; echo
ls $d/view/sub | tr '\n' ' '; echo
mount --rbind $d/a $d/rview && ls $d/rview/sub | tr '\n' ' '; echo
grep -c " $d/rview" /proc/mounts
# A recursive bind onto itself (its own copy is not bound again).
mount --rbind $d/a $d/a && ls $d/a/sub | tr '\n' ' '; echo
umount -l $d/a && ls $d/a/sub | tr '\n' ' '; echo
mount --move $d/a/sub $d/moved && ls $d/moved | tr '\n' ' '; echo
ls $d/a/sub | tr '\n' ' '; echo
mount --move $d/moved $d/moved/x 2>&1 | grep -c 'Too many levels\|failed' 
umount -l $d/rview && grep -c " $d/rview" /proc/mounts
# Open files and working directories keep a mount busy.
exec 9< $d/moved/g
umount $d/moved 2>&1 | sed 's/.*: //'
exec 9<&-
(cd $d/view && umount $d/view 2>&1 | sed 's/.*: //')
umount $d/moved $d/view
umount $d && ls -A $d | wc -l
rmdir $d

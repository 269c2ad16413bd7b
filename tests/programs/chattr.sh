# lsattr and chattr on a tmpfs (/dev/shm): flags, and what immutable and
# append-only refuse. Works in a scratch directory it makes and removes.
d=$(mktemp -d /dev/shm/attr.XXXXXX); cd $d
echo data > f; mkdir dir
lsattr f; lsattr -d dir
chattr +i f && lsattr f
echo x >> f 2>&1 | sed 's/.*: //'
rm -f f 2>&1 | sed 's/.*: //'
mv f g 2>&1 | sed 's/.*: //'
chmod 600 f 2>&1 | sed 's/.*: //'
ln f h 2>&1 | sed 's/.*: //'
chattr -i f; chattr +a f; lsattr f
echo appended >> f && cat f
echo over > f 2>&1 | sed 's/.*: //'
truncate -s 0 f 2>&1 | sed 's/.*: //'
rm f 2>&1 | sed 's/.*: //'
chattr -a f; chattr +d +A f; lsattr f
chattr +c f 2>&1 | sed 's/.*: //'
chattr +i dir; touch dir/new 2>&1 | sed 's/.*: //'; chattr -i dir
cd /; rm -rf $d

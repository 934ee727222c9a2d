# Marks one version requirement of an ELF64 little-endian shared library weak (VER_FLG_WEAK), in place,
# so the loader accepts a libstdc++ without that version: python3 weakver.py <library> <version name>
import struct, sys
path, want = sys.argv[1], sys.argv[2].encode()
b = bytearray(open(path,'rb').read())
# ELF64 little endian
e_shoff, = struct.unpack_from('<Q', b, 0x28); e_shentsize, e_shnum, e_shstrndx = struct.unpack_from('<HHH', b, 0x3A)
secs=[]
for i in range(e_shnum):
    o=e_shoff+i*e_shentsize
    name,typ,flags,addr,off,size,link,info,align,entsize=struct.unpack_from('<IIQQQQIIQQ',b,o)
    secs.append((name,typ,off,size,link,info))
SHT_GNU_verneed=0x6ffffffe
for name,typ,off,size,link,info in secs:
    if typ!=SHT_GNU_verneed: continue
    stroff=secs[link][2]
    def s(x):
        e=b.index(0,stroff+x); return bytes(b[stroff+x:e])
    p=off
    for _ in range(info):
        vn_version,vn_cnt,vn_file,vn_aux,vn_next=struct.unpack_from('<HHIII',b,p)
        a=p+vn_aux
        for _ in range(vn_cnt):
            vna_hash,vna_flags,vna_other,vna_name,vna_next=struct.unpack_from('<IHHII',b,a)
            if s(vna_name)==want:
                struct.pack_into('<H',b,a+4,vna_flags|2); print('weakened',want, 'in', s(vn_file))
            a+=vna_next
        p+=vn_next
open(path,'wb').write(b)

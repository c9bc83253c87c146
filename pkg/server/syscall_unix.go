package server

import "syscall"

var syscallEMFILE = syscall.EMFILE

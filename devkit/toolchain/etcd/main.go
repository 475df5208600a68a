// etcd for the local control plane, built from go.etcd.io/etcd/server/v3's etcdmain (setup.sh).
// Debian's etcd 3.4.23 lacks the RequestWatchProgress that kube-apiserver 1.35's watch cache needs
// (etcd >= 3.4.31 / 3.5.13): with it, reads that should come from the watch cache time out first
// and controllers see changes seconds late.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }

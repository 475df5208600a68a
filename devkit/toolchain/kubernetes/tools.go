// Pins k8s.io/kubernetes in go.mod and keeps go.sum complete for every command setup.sh builds
// (`go build k8s.io/kubernetes/cmd/...`): without these imports `go mod tidy` would drift to the
// newest release and drop the sums of packages only the commands use. A main package cannot be
// imported, so each command is represented by the library package behind it.
package main

import (
	_ "k8s.io/kubectl/pkg/cmd"
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

func main() {}

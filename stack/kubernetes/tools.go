// Pins k8s.io/kubernetes in go.mod: without an import, `go mod tidy` would drift to the newest
// release. setup.sh builds the commands with `go build k8s.io/kubernetes/cmd/...`.
package main

import _ "k8s.io/kubernetes/cmd/kube-apiserver/app"

func main() {}

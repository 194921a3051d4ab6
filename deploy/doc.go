// Package deploy holds the checks of the deployment kits in this directory. It is a module of
// its own so that the Kubernetes API types and kustomize, which only these checks need, stay out
// of reactivator's build: `make test` runs `go test ./...` here too.
package deploy

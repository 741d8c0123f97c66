// Package deploy holds Foresight's deployment files: the container image
// (Dockerfile) and the Kubernetes manifests (kubernetes/). It has no code;
// its tests check the manifests against the Kubernetes API types and the
// invariants the server relies on (probes, ports, secrets, configuration,
// shutdown timing), and lint the Dockerfile.
package deploy

package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// Versions of the envtest binaries; hack/envtest-assets.sh uses the same ones.
const (
	KubernetesVersion = "1.36.3"
	EtcdVersion       = "3.6.8"
)

// AssetsDir returns the directory holding kube-apiserver, etcd and kubectl: $KUBEBUILDER_ASSETS
// if set, else the user cache entry hack/envtest-assets.sh fills. It fails with one line saying
// which command builds them.
func AssetsDir() (string, error) {
	if d := os.Getenv("KUBEBUILDER_ASSETS"); d != "" {
		if err := checkAssets(d); err != nil {
			return "", fmt.Errorf("KUBEBUILDER_ASSETS=%s: %w", d, err)
		}
		return d, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find user cache dir: %w", err)
	}
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		cache = x
	}
	d := filepath.Join(cache, "servingsim", "envtest",
		fmt.Sprintf("k8s-%s-etcd-%s-%s-%s", KubernetesVersion, EtcdVersion, runtime.GOOS, runtime.GOARCH))
	if err := checkAssets(d); err != nil {
		return "", fmt.Errorf("envtest binaries not found in %s: run 'make envtest' (hack/envtest-assets.sh) to build them", d)
	}
	return d, nil
}

func checkAssets(d string) error {
	for _, b := range []string{"kube-apiserver", "etcd", "kubectl"} {
		if _, err := os.Stat(filepath.Join(d, b)); err != nil {
			return fmt.Errorf("missing %s", b)
		}
	}
	return nil
}

// Kubectl returns the path of the kubectl binary built with the envtest assets.
func Kubectl() (string, error) {
	d, err := AssetsDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "kubectl"), nil
}

// Command kindconfigcheck decodes kind cluster configurations strictly with kind's own API
// types, so a field kind does not know (or a value of the wrong type) fails.
package main

import (
	"fmt"
	"os"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"
)

func main() {
	failed := false
	for _, path := range os.Args[1:] {
		data, err := os.ReadFile(path)
		if err == nil {
			var cluster v1alpha4.Cluster
			err = yaml.UnmarshalStrict(data, &cluster)
			if err == nil && (cluster.Kind != "Cluster" || cluster.APIVersion != "kind.x-k8s.io/v1alpha4") {
				err = fmt.Errorf("kind/apiVersion are %q/%q", cluster.Kind, cluster.APIVersion)
			}
			if err == nil {
				fmt.Printf("%s: ok (%d nodes)\n", path, len(cluster.Nodes))
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

// Strict decoding of kind-configs/*.yaml with kind's own v1alpha4 types (tests/cluster/test_kind.py).
module fakehw.local/kindconfigcheck

go 1.26

require (
	sigs.k8s.io/kind v0.33.0
	sigs.k8s.io/yaml v1.6.0
)

require (
	github.com/pkg/errors v0.9.1 // indirect
	go.yaml.in/yaml/v2 v2.4.2 // indirect
)

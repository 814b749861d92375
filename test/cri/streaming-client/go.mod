module tsrun.test/streaming-client

go 1.24

require k8s.io/client-go v0.34.0

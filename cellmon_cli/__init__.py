"""The commands on top: the `cellmon` CLI, deploying, the local cluster, the demo, embedded
services, the class simulator's sender and the load test."""

# Versions of the servers devkit/toolchain/setup.sh installs. Bumping one builds a new cache entry beside the old.
TEMPORAL_CLI_VERSION=1.5.1            # newest tag `go install` accepts (later tags carry a replace directive)
TEMPORAL_SERVER_VERSION=1.29.1         # go.temporal.io/server: temporal-server and temporal-sql-tool for `stack up --temporal cluster` (the CLI's dev server embeds the same)
TEMPORAL_UI_SERVER_VERSION=2.42.1      # github.com/temporalio/ui-server/v2: the Web UI in front of that cluster (the CLI embeds the same)
TEMPORAL_TEST_SERVER_VERSION=1.38.0   # io.temporal:temporal-test-server on Maven Central
KUBERNETES_VERSION=1.35.4             # k8s.io/kubernetes, built by devkit/toolchain/kubernetes/go.mod (keep them equal)
KWOK_VERSION=0.7.0                    # sigs.k8s.io/kwok: kwok (fake nodes) and kwokctl (binary runtime)
GATEWAY_API_VERSION=1.6.3            # sigs.k8s.io/gateway-api standard CRDs (1.7 needs Go 1.27)
ETCD_VERSION=3.6.16                   # go.etcd.io/etcd/server/v3, built by devkit/toolchain/etcd/go.mod (keep them equal)

# Versions of the servers stack/setup.sh installs. Bumping one builds a new cache entry beside the old.
TEMPORAL_CLI_VERSION=1.5.1            # newest tag `go install` accepts (later tags carry a replace directive)
TEMPORAL_TEST_SERVER_VERSION=1.38.0   # io.temporal:temporal-test-server on Maven Central

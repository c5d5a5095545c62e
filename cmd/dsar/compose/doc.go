// Package compose holds the tests that check the container files of the dsar
// binary without a container engine: the repository's docker-compose.yml,
// loaded and validated with the Compose Specification's reference loader
// (compose-go), and cmd/dsar/Dockerfile with its Dockerfile.dockerignore,
// parsed with BuildKit's own parser and pattern matcher.
//
// The package has no non-test code and imports no other package of the
// repository.
package compose

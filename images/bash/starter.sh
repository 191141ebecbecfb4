echo "Hello from $(uname -s), $BASH_VERSION"

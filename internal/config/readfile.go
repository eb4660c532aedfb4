package config

import (
	"fmt"
	"io"
	"os"
)

// MaxFileSize bounds a configuration file. Real ones are a few kilobytes;
// the bound keeps `checkconfig -c /dev/zero` (or a log file passed by
// mistake) from reading until memory runs out.
const MaxFileSize = 8 << 20

// readFile reads a configuration file of at most MaxFileSize bytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("larger than %d MiB; is this the configuration file?", MaxFileSize>>20)
	}
	return data, nil
}

package memory

import (
	"time"

	"testing"

	"github.com/spindle-rt/spindle/internal/realtime/engine"
	"github.com/spindle-rt/spindle/internal/realtime/engine/enginetest"
)

func TestContract(t *testing.T) {
	enginetest.RunContract(t, func(t *testing.T) engine.Engine {
		return New(Options{PresenceTTL: enginetest.PresenceTTL})
	})
}

func TestMapContract(t *testing.T) {
	enginetest.RunMapContract(t, func(t *testing.T) engine.MapBroker {
		return New(Options{SweepInterval: 50 * time.Millisecond})
	})
}

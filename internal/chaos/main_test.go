package chaos

import (
	"testing"

	"reactivator/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// This file starts the private redis-server that the command tests of this package share.

package main

import (
	"testing"

	"reactivator/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

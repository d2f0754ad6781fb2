package esslimits_test

import (
	"strings"
	"testing"

	"essworker/internal/esslimits"
)

func TestValidRegionID(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"cn-hangzhou", "ap-southeast-1", "us-east-1", "eu-central-1", "cn-shanghai-finance-1"} {
		if !esslimits.ValidRegionID(s) {
			t.Errorf("ValidRegionID(%q) = false", s)
		}
	}
	for _, s := range []string{"", "CN-hangzhou", "cn--hangzhou", "cn-hangzhou-", "-cn", "1cn", "cn_hangzhou", "cn hangzhou", strings.Repeat("a", 65)} {
		if esslimits.ValidRegionID(s) {
			t.Errorf("ValidRegionID(%q) = true", s)
		}
	}
}

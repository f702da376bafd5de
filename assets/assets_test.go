package assets

import (
	"bytes"
	"image/png"
	"testing"

	"fyne.io/fyne/v2"
)

func TestIconsArePNGsOfTheirSize(t *testing.T) {
	tests := []struct {
		name string
		res  fyne.Resource
		size int
	}{
		{"app", Icon, 256},
		{"ok", TrayOK, 64},
		{"expiring", TrayExpiring, 64},
		{"attention", TrayAttention, 64},
		{"empty", TrayEmpty, 64},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := png.Decode(bytes.NewReader(tt.res.Content()))
			if err != nil {
				t.Fatalf("decode %s: %v", tt.res.Name(), err)
			}
			if b := img.Bounds(); b.Dx() != tt.size || b.Dy() != tt.size {
				t.Fatalf("%s is %v, want %d×%d", tt.res.Name(), b, tt.size, tt.size)
			}
			if seen[string(tt.res.Content())] {
				t.Fatalf("%s is the same picture as another icon", tt.res.Name())
			}
			seen[string(tt.res.Content())] = true
		})
	}
}

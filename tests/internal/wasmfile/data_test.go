package wasmfile

import (
	"errors"
	"reflect"
	"testing"
)

func TestDataSegments(t *testing.T) {
	got, err := DataSegments(dataModule(1, seg(0, 1, 2), seg(300, 9)))
	if err != nil {
		t.Fatal(err)
	}
	want := []Segment{{Offset: 0, Data: []byte{1, 2}, Header: 5}, {Offset: 300, Data: []byte{9}, Header: 6}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if got, err := DataSegments(modBytes(memSec(1))); err != nil || got != nil {
		t.Fatalf("module without data: %v, %v", got, err)
	}
}

func TestDataSegmentsRefuses(t *testing.T) {
	okSeg := seg(0, 1)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"not a module", []byte("\x00asm"), ErrMalformed},
		{"version 2", []byte("\x00asm\x02\x00\x00\x00"), ErrUnsupported},
		{"truncated data section", modBytes(memSec(1), []byte{SecData, 0x05, 0x01, 0x00}), ErrMalformed},
		{"segment longer than the section", dataModule(1, []byte{0x00, 0x41, 0x00, 0x0b, 0x09, 0x01}), ErrMalformed},
		{"bytes after the last segment", modBytes(memSec(1), sec(SecData, vec(okSeg), []byte{0})), ErrMalformed},
		{"unknown segment flag", dataModule(1, []byte{0x03, 0x00}), ErrMalformed},
		{"passive segment", dataModule(1, okSeg, []byte{0x01, 0x01, 0x07}), ErrUnsupported},
		{"segment for memory 1", dataModule(1, []byte{0x02, 0x01, 0x41, 0x00, 0x0b, 0x01, 0x05}), ErrUnsupported},
		{"global.get offset", dataModule(1, []byte{0x00, 0x23, 0x00, 0x0b, 0x01, 0x07}), ErrUnsupported},
		{"i64.const offset", dataModule(1, []byte{0x00, 0x42, 0x00, 0x0b, 0x01, 0x07}), ErrUnsupported},
		{"extended constant offset", dataModule(1, []byte{0x00, 0x41, 0x00, 0x41, 0x01, 0x6a, 0x0b, 0x01, 0x07}), ErrUnsupported},
		{"sections out of order", modBytes(sec(SecData, vec(okSeg)), memSec(1)), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DataSegments(tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

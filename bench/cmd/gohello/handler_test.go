package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestGoHello: every path answers the hello app's body, /download the
// download app's 10 MB with its Content-Length.
func TestGoHello(t *testing.T) {
	ts := httptest.NewServer(newGoHello())
	defer ts.Close()
	for _, tc := range []struct {
		path string
		size int
		body string
	}{
		{"/", len(helloBody), helloBody},
		{"/any/path?q=1", len(helloBody), helloBody},
		{"/download", downloadSize, ""},
	} {
		resp, err := http.Get(ts.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || len(b) != tc.size || tc.body != "" && string(b) != tc.body ||
			resp.ContentLength != int64(tc.size) {
			t.Errorf("GET %s: %s, %d bytes (Content-Length %d), err %v", tc.path, resp.Status, len(b), resp.ContentLength, err)
		}
	}
}

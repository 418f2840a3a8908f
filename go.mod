module github.com/gowsgi/gowsgi

go 1.26.8

package main

import (
	"strings"
	"testing"

	"github.com/hibiken/asynq"
)

func TestParseRedisURL(t *testing.T) {
	tests := []struct {
		url  string
		want string // the option type and its address(es)
	}{
		{"redis://127.0.0.1:6379/2", "client 127.0.0.1:6379 db 2"},
		{"rediss://:pw@redis.example:6380/0", "client redis.example:6380 db 0 tls"},
		{"redis-sentinel://s1:26379,s2:26379?master=mymaster", "failover mymaster s1:26379,s2:26379"},
		{"redis-cluster://n1:7000,n2:7001,n3:7002", "cluster n1:7000,n2:7001,n3:7002"},
		{"redis-cluster://u:pw@n1:7000", "cluster n1:7000 user u"},
	}
	for _, tt := range tests {
		opt, err := parseRedisURL(tt.url)
		if err != nil {
			t.Errorf("%s: %v", tt.url, err)
			continue
		}
		var got string
		switch o := opt.(type) {
		case asynq.RedisClientOpt:
			got = "client " + o.Addr + " db " + string(rune('0'+o.DB))
			if o.TLSConfig != nil {
				got += " tls"
			}
		case asynq.RedisFailoverClientOpt:
			got = "failover " + o.MasterName + " " + strings.Join(o.SentinelAddrs, ",")
		case asynq.RedisClusterClientOpt:
			got = "cluster " + strings.Join(o.Addrs, ",")
			if o.Username != "" {
				got += " user " + o.Username
			}
		}
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.url, got, tt.want)
		}
	}
	_, err := parseRedisURL("http://user:hunter2@redis:6379")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad scheme: %v", err)
	}
}

package fakeexchange

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Limits of GET /api/v2/trades.
const (
	defaultTradesLimit = 50
	MaxTradesLimit     = 100000 // the largest limit /api/v2/trades accepts
	tradesFlushEvery   = 1000   // rows per flush while streaming
)

// serveTrades handles GET /api/v2/trades?market=…&limit=N (public). The
// rows are generated and streamed as one JSON array, flushed every 1000
// rows, so a large limit gives a large body that is never held in memory.
// Each row is {"id","price","volume","funds","market","created_at","side"}.
func (e *Exchange) serveTrades(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	market := q.Get("market")
	if !marketKnown(market) {
		(&apiError{http.StatusBadRequest, CodeBadParam, "market does not have a valid value"}).write(w)
		return
	}
	limit := defaultTradesLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxTradesLimit {
			(&apiError{http.StatusBadRequest, CodeBadParam, fmt.Sprintf("limit must be between 1 and %d", MaxTradesLimit)}).write(w)
			return
		}
		limit = n
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	bw := bufio.NewWriterSize(w, 32<<10)
	base := e.cfg.Now().UTC()
	marketJSON := strconv.Quote(market) // a known market id: plain ASCII
	row := make([]byte, 0, 256)
	bw.WriteByte('[')
	for i := range limit {
		row = appendTrade(row[:0], i, marketJSON, base)
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.Write(row)
		if (i+1)%tradesFlushEvery == 0 {
			if bw.Flush() != nil || r.Context().Err() != nil {
				return
			}
			rc.Flush()
		}
	}
	bw.WriteString("]\n")
	bw.Flush()
}

// appendTrade appends the JSON of the i-th generated trade (newest first)
// to b. marketJSON is the quoted market id.
func appendTrade(b []byte, i int, marketJSON string, base time.Time) []byte {
	price := 30000 + (i*37)%1000 // funds = price × 0.01
	side := `"buy"`
	if i%2 == 1 {
		side = `"sell"`
	}
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, int64(1000000-i), 10)
	b = append(b, `,"price":"`...)
	b = strconv.AppendInt(b, int64(price), 10)
	b = append(b, `.0","volume":"0.01","funds":"`...)
	b = strconv.AppendInt(b, int64(price/100), 10)
	b = append(b, '.', byte('0'+price%100/10), byte('0'+price%10))
	b = append(b, `","market":`...)
	b = append(b, marketJSON...)
	b = append(b, `,"created_at":"`...)
	b = base.Add(-time.Duration(i)*time.Second).AppendFormat(b, time.RFC3339)
	b = append(b, `","side":`...)
	b = append(b, side...)
	return append(b, '}')
}

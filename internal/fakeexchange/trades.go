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
	bw.WriteByte('[')
	for i := range limit {
		if i > 0 {
			bw.WriteByte(',')
		}
		id := 1000000 - i
		price := 30000 + (i*37)%1000
		side := "buy"
		if i%2 == 1 {
			side = "sell"
		}
		fmt.Fprintf(bw, `{"id":%d,"price":"%d.0","volume":"0.01","funds":"%d.%02d","market":%q,"created_at":%q,"side":%q}`,
			id, price, price/100, price%100, market, base.Add(-time.Duration(i)*time.Second).Format(time.RFC3339), side)
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

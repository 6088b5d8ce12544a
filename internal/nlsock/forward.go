package nlsock

// Forward sends what q delivers, in order, on the returned channel, for a
// consumer that would rather range over a channel than drain batches. The
// channel is closed once q has ended and every message was received, or
// when stop is closed, which discards what was not received: the
// forwarding goroutine never outlives its reader.
func Forward[E any](q *Queue[E], stop <-chan struct{}) <-chan E {
	out := make(chan E)
	go func() {
		defer close(out)
		var batch []E
		for {
			select {
			case <-q.Ready():
			case <-stop:
				return
			}
			var more bool
			batch, more = q.Drain(batch[:0])
			for _, e := range batch {
				select {
				case out <- e:
				case <-stop:
					return
				}
			}
			if !more {
				return
			}
			if cap(batch) > initialCapacity {
				batch = nil
			}
		}
	}()
	return out
}

package dev.pagoda.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class WorkerPoolTest {
    @Test
    void coversEveryIndexOnceInChunks() {
        WorkerPool pool = new WorkerPool(3);
        for (int n : new int[] {1, 2, 3, 5, 100, 1001}) {
            int[] hits = new int[n];
            for (int rep = 0; rep < 50; rep++) {
                pool.parallelFor(n, (start, end) -> {
                    assertThat(start).isLessThan(end);
                    for (int i = start; i < end; i++) {
                        hits[i]++;
                    }
                });
            }
            for (int i = 0; i < n; i++) {
                assertThat(hits[i]).isEqualTo(50);
            }
        }
    }

    @Test
    void theCallerTakesTheChunksAHeldUpWorkerLeaves() {
        WorkerPool pool = new WorkerPool(2);
        int n = 64;
        AtomicInteger byCaller = new AtomicInteger(), byWorker = new AtomicInteger();
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            Thread caller = Thread.currentThread();
            for (int rep = 0; rep < 20; rep++) {
                byCaller.set(0);
                byWorker.set(0);
                pool.parallelFor(n, (s, e) -> {
                    if (Thread.currentThread() == caller) {
                        byCaller.addAndGet(e - s);
                    } else {
                        // a worker's chunk ends only once the caller has done every other index
                        while (byCaller.get() < n - (e - s)) {
                            Thread.onSpinWait();
                        }
                        byWorker.addAndGet(e - s);
                    }
                });
                // the held-up worker ran at most its first chunk (three quarters of its half); the caller all the rest
                assertThat(byCaller.get() + byWorker.get()).isEqualTo(n);
                assertThat(byWorker.get()).isLessThanOrEqualTo(3 * n / 8);
            }
        });
    }

    @Test
    void nestedCallsRunInlineAndFailuresPropagate() {
        WorkerPool pool = new WorkerPool(2);
        AtomicInteger inner = new AtomicInteger();
        pool.parallelFor(4, (s, e) -> {
            for (int i = s; i < e; i++) {
                pool.parallelFor(10, (s2, e2) -> inner.addAndGet(e2 - s2));
            }
        });
        assertThat(inner.get()).isEqualTo(40);
        assertThatThrownBy(() -> pool.parallelFor(4, (s, e) -> {
            if (s >= 2) {
                throw new IllegalStateException("boom");
            }
        })).isInstanceOf(IllegalStateException.class).hasMessage("boom");
        // still usable after a failure
        int[] sum = new int[1];
        pool.parallelFor(3, (s, e) -> {
            synchronized (sum) {
                sum[0] += e - s;
            }
        });
        assertThat(sum[0]).isEqualTo(3);
    }

    @Test
    void wakesParkedWorkers() throws InterruptedException {
        WorkerPool pool = new WorkerPool(2);
        Thread.sleep(50);  // workers spin briefly, then park; the next call must still wake them
        int[] seen = new int[2];
        pool.parallelFor(2, (s, e) -> seen[s] = 1);
        assertThat(seen).containsExactly(1, 1);
        // a worker that is never handed a chunk still returns to wait for the next call
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 1000; i++) {
            pool.parallelFor(2, (s, e) -> ran.addAndGet(e - s));
        }
        assertThat(ran.get()).isEqualTo(2000);
    }

    @Test
    void sharedPoolIsSizedToTheCores() {
        assertThat(WorkerPool.shared().threads()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(WorkerPool.shared()).isSameAs(WorkerPool.shared());
    }

    @Test
    void theSharedPoolKeepsTheSizeItWasCreatedWith() {
        int threads = WorkerPool.shared().threads();
        WorkerPool.sizeShared(threads);
        assertThat(WorkerPool.shared().threads()).isEqualTo(threads);
        assertThatThrownBy(() -> WorkerPool.sizeShared(threads + 1)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already has " + threads + " threads");
    }
}

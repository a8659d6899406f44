package dev.pagoda.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class WorkerPoolTest {
    @Test
    void coversEveryIndexOnceWithTheStaticPartition() {
        WorkerPool pool = new WorkerPool(3);
        for (int n : new int[] {1, 2, 3, 5, 100, 1001}) {
            int[] hits = new int[n];
            String[] owner = new String[n];
            for (int rep = 0; rep < 50; rep++) {
                pool.parallelFor(n, (start, end) -> {
                    for (int i = start; i < end; i++) {
                        hits[i]++;
                        owner[i] = start + ":" + end;
                    }
                });
            }
            for (int i = 0; i < n; i++) {
                assertThat(hits[i]).isEqualTo(50);
            }
            // the range that covers i is the fixed part i*n/T .. (i+1)*n/T, whatever the timing
            for (int part = 0; part < 3; part++) {
                int s = WorkerPool.partStart(n, 3, part);
                int e = WorkerPool.partStart(n, 3, part + 1);
                for (int i = s; i < e; i++) {
                    assertThat(owner[i]).isEqualTo(s + ":" + e);
                }
            }
        }
    }

    @Test
    void callerTakesPartAndWorkersRunTheRest() {
        WorkerPool pool = new WorkerPool(2);
        Thread[] who = new Thread[2];
        pool.parallelFor(2, (start, end) -> who[start] = Thread.currentThread());
        assertThat(who[0]).isSameAs(Thread.currentThread());
        assertThat(who[1]).isNotSameAs(Thread.currentThread()).isNotNull();
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

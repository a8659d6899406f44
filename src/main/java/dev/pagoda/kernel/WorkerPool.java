package dev.pagoda.kernel;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One persistent set of threads for data-parallel loops. {@link #parallelFor} splits {@code [0, n)} into
 * {@code threads()} contiguous parts by a fixed formula (part i = [i*n/T, (i+1)*n/T)), so which thread computes
 * which index never depends on timing; the calling thread computes part 0. Idle workers spin briefly
 * (the engine calls this ~100 times per token) and then park. A call makes no allocation.
 * A call made while the pool is busy (another caller, or a nested call from a task) runs inline on the caller.
 */
public final class WorkerPool {
    private static final int SPIN_ITERATIONS = 1 << 14;
    /**
     * Multiply-adds below which a caller should run a loop on its own thread: handing work to the workers
     * costs microseconds (more when they are parked), which a loop this small does not repay.
     */
    public static final long INLINE_WORK = 1L << 16;
    private static volatile WorkerPool shared;

    private final Worker[] workers;
    private final AtomicBoolean busy = new AtomicBoolean();
    private final AtomicInteger remaining = new AtomicInteger();
    /** Bumped once per dispatched call; workers wait for it to change. Written after task and n (publication). */
    private volatile long generation;
    private RangeTask task;
    private int n;
    private volatile Thread caller;
    private volatile boolean callerParked;
    private volatile Throwable failure;

    /** A pool of {@code threads} threads in all, the caller included (so {@code threads - 1} daemon workers). */
    public WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].thread.start();
        }
    }

    /** The process-wide pool, sized to the available cores unless {@link #sizeShared} chose first. */
    public static WorkerPool shared() {
        WorkerPool p = shared;
        if (p == null) {
            synchronized (WorkerPool.class) {
                p = shared;
                if (p == null) {
                    p = new WorkerPool(Runtime.getRuntime().availableProcessors());
                    shared = p;
                }
            }
        }
        return p;
    }

    /**
     * Sizes the process-wide pool before its first use (a server leaves cores to its I/O threads: idle workers spin,
     * and a part whose thread is descheduled holds up the whole loop). Fails once the pool exists with another size.
     */
    public static synchronized void sizeShared(int threads) {
        if (shared == null) {
            shared = new WorkerPool(threads);
        } else if (shared.threads() != threads) {
            throw new IllegalStateException("the shared worker pool already has " + shared.threads() + " threads");
        }
    }

    public int threads() {
        return workers.length + 1;
    }

    /** Start of part {@code part} of {@code [0, n)} split into {@code parts}: the fixed static partition. */
    public static int partStart(int n, int parts, int part) {
        return (int) ((long) n * part / parts);
    }

    /** Runs {@code task} over {@code [0, n)} split statically across the pool; returns when all parts are done. */
    public void parallelFor(int n, RangeTask task) {
        if (n <= 0) {
            return;
        }
        if (workers.length == 0 || n == 1 || !busy.compareAndSet(false, true)) {
            task.run(0, n);
            return;
        }
        try {
            this.task = task;
            this.n = n;
            this.failure = null;
            this.caller = Thread.currentThread();
            remaining.set(workers.length);
            generation++;  // volatile write publishes task and n
            for (Worker w : workers) {
                if (w.parked) {
                    LockSupport.unpark(w.thread);
                }
            }
            Throwable own = null;
            try {
                int end = partStart(n, threads(), 1);
                if (end > 0) {
                    task.run(0, end);
                }
            } catch (Throwable t) {
                own = t;
            }
            awaitWorkers();
            this.task = null;
            Throwable f = own != null ? own : failure;
            if (f instanceof RuntimeException re) {
                throw re;
            } else if (f instanceof Error e) {
                throw e;
            } else if (f != null) {
                throw new IllegalStateException(f);
            }
        } finally {
            busy.set(false);
        }
    }

    private void awaitWorkers() {
        for (int i = 0; i < SPIN_ITERATIONS; i++) {
            if (remaining.get() == 0) {
                return;
            }
            Thread.onSpinWait();
        }
        while (remaining.get() != 0) {
            callerParked = true;
            if (remaining.get() != 0) {
                LockSupport.park(this);
            }
            callerParked = false;
        }
    }

    private final class Worker implements Runnable {
        final int part;
        final Thread thread;
        volatile boolean parked;

        Worker(int part) {
            this.part = part;
            this.thread = new Thread(this, "pagoda-worker-" + part);
            this.thread.setDaemon(true);
        }

        @Override
        public void run() {
            long seen = 0;
            while (true) {
                seen = awaitGeneration(seen);
                int count = n;
                int parts = threads();
                int start = partStart(count, parts, part);
                int end = partStart(count, parts, part + 1);
                try {
                    if (start < end) {
                        task.run(start, end);
                    }
                } catch (Throwable t) {
                    failure = t;
                }
                if (remaining.decrementAndGet() == 0 && callerParked) {
                    LockSupport.unpark(caller);
                }
            }
        }

        /** Spins, then parks, until the generation moves past {@code seen}. Parked is set before the re-check. */
        private long awaitGeneration(long seen) {
            for (int i = 0; i < SPIN_ITERATIONS; i++) {
                long g = generation;
                if (g != seen) {
                    return g;
                }
                Thread.onSpinWait();
            }
            while (true) {
                parked = true;
                long g = generation;
                if (g != seen) {
                    parked = false;
                    return g;
                }
                LockSupport.park(WorkerPool.this);
                parked = false;
            }
        }
    }
}

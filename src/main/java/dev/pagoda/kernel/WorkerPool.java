package dev.pagoda.kernel;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * One persistent set of threads for data-parallel loops. {@link #parallelFor} splits {@code [0, n)} into one
 * contiguous part per thread (part i = [i*n/T, (i+1)*n/T), the calling thread's is part 0); each thread works through
 * its own part front to back in shrinking chunks (three quarters of the rest each), then takes chunks of the parts
 * others have not reached. So when the threads run alike each reads one contiguous range (long weight streams), and
 * a worker that wakes late or runs slower (a shared host deschedules threads for milliseconds) has its part's rest
 * taken over instead of holding up the loop. Which thread computes an index therefore depends on timing: a task must
 * compute each index the same on any thread (no sums across indices). Idle workers spin briefly (the engine calls
 * this ~100 times per token) and then park. A call makes no allocation. A call made while the pool is busy (another
 * caller, or a nested call from a task) runs inline on the caller.
 */
public final class WorkerPool {
    private static final int SPIN_ITERATIONS = 1 << 14;
    /** Longs between two parts' claim words: one cache line each, so claims in different parts do not contend. */
    private static final int STRIDE = 8;
    /**
     * Multiply-adds below which a caller should run a loop on its own thread: handing work to the workers
     * costs microseconds (more when they are parked), which a loop this small does not repay.
     */
    public static final long INLINE_WORK = 1L << 16;
    private static volatile WorkerPool shared;

    private final Worker[] workers;
    private final AtomicBoolean busy = new AtomicBoolean();
    /**
     * Per part (at p * STRIDE): the current call's generation (high 32 bits) and the part's next unclaimed index (low
     * 32 bits). A chunk is claimed by a compare-and-set that keeps the generation, so a thread holding an earlier
     * call's value claims nothing: a call ends only when every index is claimed and done, then its parts are closed,
     * and the next call is published with a new generation.
     */
    private final AtomicLongArray claims;
    /** Indices of the current call done (or failed). */
    private final AtomicInteger done = new AtomicInteger();
    private int generation;
    /** The current call; written before {@link #claims} publishes it. */
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
        claims = new AtomicLongArray(threads * STRIDE);
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

    /** Start of part {@code part} of {@code [0, n)} split into {@code parts}: an even static partition. */
    public static int partStart(int n, int parts, int part) {
        return (int) ((long) n * part / parts);
    }

    /** Runs {@code task} over {@code [0, n)} on the pool's threads (see the class comment); returns when all is done. */
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
            done.set(0);
            long gen = (long) ++generation << 32;
            for (int p = threads() - 1; p >= 0; p--) {
                claims.set(p * STRIDE, gen | partStart(n, threads(), p));  // publishes task and n
            }
            for (Worker w : workers) {
                if (w.parked) {
                    LockSupport.unpark(w.thread);
                }
            }
            runParts(generation, 0);
            awaitDone();
            // closed before the next call's fields are written: a thread that read this call's last claim along with
            // the next call's n would otherwise claim past this call's end
            for (int p = 0; p < threads(); p++) {
                claims.set(p * STRIDE, gen | Integer.MAX_VALUE);
            }
            this.task = null;
            Throwable f = failure;
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

    /** Part {@code own} of call {@code gen}, then what is left of the others, in order after it. */
    private void runParts(int gen, int own) {
        for (int i = 0; i < threads(); i++) {
            runChunks(gen, (own + i) % threads());
        }
    }

    /** Claims and runs chunks of {@code part} of call {@code gen} until none is left (or the call is over). */
    private void runChunks(int gen, int part) {
        int at = part * STRIDE;
        while (true) {
            long c = claims.get(at);
            // read after the claim word that published them; if they are a later call's already, the claim below fails
            int count = n;
            int start = (int) c;
            int end = partStart(count, threads(), part + 1);
            if ((int) (c >>> 32) != gen || start >= end) {
                return;
            }
            // three quarters of what is left: long runs first (a part's first claim streams most of it), small ones
            // last to even the finish (halves cost 7-10% of a 1-token matmul whose weights sit in the cache)
            int stop = start + (int) ((3L * (end - start) + 3) / 4);
            if (!claims.compareAndSet(at, c, (long) gen << 32 | stop)) {
                continue;
            }
            try {
                task.run(start, stop);
            } catch (Throwable t) {
                failure = t;
            }
            if (done.addAndGet(stop - start) == count && callerParked) {
                LockSupport.unpark(caller);
            }
        }
    }

    private void awaitDone() {
        for (int i = 0; i < SPIN_ITERATIONS; i++) {
            if (done.get() == n) {
                return;
            }
            Thread.onSpinWait();
        }
        while (done.get() != n) {
            callerParked = true;
            if (done.get() != n) {
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
            int seen = 0;
            while (true) {
                seen = awaitCall(seen);
                runParts(seen, part);
            }
        }

        /** Spins, then parks, until a call after {@code seen} is published; returns its generation. Parked is set before the re-check. */
        private int awaitCall(int seen) {
            int at = part * STRIDE;
            for (int i = 0; i < SPIN_ITERATIONS; i++) {
                int g = (int) (claims.get(at) >>> 32);
                if (g != seen) {
                    return g;
                }
                Thread.onSpinWait();
            }
            while (true) {
                parked = true;
                int g = (int) (claims.get(at) >>> 32);
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

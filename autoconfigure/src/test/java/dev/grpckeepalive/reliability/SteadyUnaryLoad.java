package dev.grpckeepalive.reliability;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

import dev.grpckeepalive.test.proto.EchoReply;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

/**
 * A steady unary load behind a load balancer: one call per channel every period, the channels staggered over
 * the period, each call with a deadline, and every failure counted by its status. Calls in flight are bounded,
 * so a stall shows as skipped calls, not as a pile of threads.
 */
final class SteadyUnaryLoad {

	private final List<ManagedChannel> channels;

	private final Duration period;

	private final Duration deadline;

	private final ScheduledExecutorService scheduler;

	/** A bound on calls in flight; never reached unless something stalls. */
	private final Semaphore inFlight;

	private final int inFlightBound;

	private final LongAdder sent = new LongAdder();

	private final LongAdder ok = new LongAdder();

	private final LongAdder skipped = new LongAdder();

	private final Map<String, LongAdder> failed = new ConcurrentHashMap<>();

	SteadyUnaryLoad(String name, List<ManagedChannel> channels, Duration period, Duration deadline) {
		this.channels = List.copyOf(channels);
		this.period = period;
		this.deadline = deadline;
		this.inFlightBound = 10 * channels.size();
		this.inFlight = new Semaphore(this.inFlightBound);
		this.scheduler = Executors.newSingleThreadScheduledExecutor((task) -> {
			Thread thread = new Thread(task, name);
			thread.setDaemon(true);
			return thread;
		});
	}

	void start() {
		long periodMillis = this.period.toMillis();
		for (int i = 0; i < this.channels.size(); i++) {
			TestServiceGrpc.TestServiceStub stub = TestServiceGrpc.newStub(this.channels.get(i));
			this.scheduler.scheduleAtFixedRate(() -> send(stub), i * periodMillis / this.channels.size(), periodMillis,
					TimeUnit.MILLISECONDS);
		}
	}

	private void send(TestServiceGrpc.TestServiceStub stub) {
		if (!this.inFlight.tryAcquire()) {
			this.skipped.increment();
			return;
		}
		this.sent.increment();
		stub.withDeadlineAfter(this.deadline.toMillis(), TimeUnit.MILLISECONDS)
			.echo(EchoRequest.newBuilder().setText("load").build(), new StreamObserver<EchoReply>() {

				@Override
				public void onNext(EchoReply reply) {
				}

				@Override
				public void onError(Throwable error) {
					Status status = Status.fromThrowable(error);
					SteadyUnaryLoad.this.failed
						.computeIfAbsent(status.getCode() + ": " + status.getDescription(), (key) -> new LongAdder())
						.increment();
					SteadyUnaryLoad.this.inFlight.release();
				}

				@Override
				public void onCompleted() {
					SteadyUnaryLoad.this.ok.increment();
					SteadyUnaryLoad.this.inFlight.release();
				}

			});
	}

	/** Stops sending and waits for the calls in flight, which end by their deadline at the latest. */
	void stop() throws InterruptedException {
		if (this.scheduler.isShutdown()) {
			return;
		}
		this.scheduler.shutdown();
		this.scheduler.awaitTermination(5, TimeUnit.SECONDS);
		this.inFlight.tryAcquire(this.inFlightBound, this.deadline.toMillis() + 5_000, TimeUnit.MILLISECONDS);
	}

	List<ManagedChannel> channels() {
		return this.channels;
	}

	long sent() {
		return this.sent.sum();
	}

	long ok() {
		return this.ok.sum();
	}

	long skipped() {
		return this.skipped.sum();
	}

	/** Failed calls by status code and description. */
	Map<String, Long> failed() {
		Map<String, Long> failed = new LinkedHashMap<>();
		this.failed.forEach((key, count) -> failed.put(key, count.sum()));
		return failed;
	}

}

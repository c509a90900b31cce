package dev.grpckeepalive.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import dev.grpckeepalive.benchmarks.proto.BenchServiceGrpc;
import dev.grpckeepalive.benchmarks.proto.Payload;
import dev.grpckeepalive.benchmarks.proto.StreamRequest;

/**
 * Closed-loop load against each variant, in rounds that run the variants of each compared
 * pair back to back, in alternating order ({@link #ROUND_ORDER}), after one unmeasured
 * warm-up pass over all of them; the report gives medians with the spread, and each
 * pair's ratio round by round.
 */
final class LoadHarness {

	/**
	 * Calls in flight on the one connection. Keep it at or under the starter's default
	 * {@code max-concurrent-calls-per-connection} (100), or set that limit for (b) and (c) in
	 * {@link Deployment}: above it their grpc-java client would queue calls that (a) and (d) send.
	 */
	static final int CONCURRENCY = 64;

	private static final Payload SMALL = Payload.newBuilder().setData(ByteString.copyFromUtf8("0123456789abcdef")).build();

	/**
	 * The order of the variants in odd rounds; even rounds run it backwards. Each pair whose
	 * ratio is reported, (a) and (b), (c) and (d), (b) and (e), runs back to back in every
	 * round, and each variant of a pair runs first in every other round (ABBA), so that drift
	 * on a shared machine falls on both sides of a pair alike.
	 */
	static final List<Variant> ROUND_ORDER = List.of(Variant.SPRING_BOOT_GRPC, Variant.COMPANION, Variant.PLAIN,
			Variant.STARTER, Variant.STARTER_NO_FRAMES);

	private final List<Variant> variants;

	private final int rounds;

	private final Duration warmup;

	private final Duration measure;

	/** Event-loop threads seen while each variant was measured in its first round. */
	private final Map<Variant, Map<String, Integer>> threads = new EnumMap<>(Variant.class);

	LoadHarness(List<Variant> variants, int rounds, Duration warmup, Duration measure) {
		this.variants = ROUND_ORDER.stream().filter(variants::contains).toList();
		this.rounds = rounds;
		this.warmup = warmup;
		this.measure = measure;
	}

	/** One variant's figures in one round. */
	record Sample(double unaryPerSecond, double p50Micros, double p99Micros, double streamPerSecond,
			double churnPerSecond) {
	}

	/** Every variant's samples, round by round (the i-th sample of each is from round i). */
	Map<Variant, List<Sample>> run() throws Exception {
		// each variant once, unmeasured: whichever ran first would otherwise pay the JIT's warm-up
		for (Variant variant : this.variants) {
			try (Deployment deployment = Deployment.start(variant)) {
				unary(deployment.channel(), this.warmup);
				stream(deployment.channel(), this.warmup.dividedBy(2));
				System.out.printf(Locale.ROOT, "warm-up %s%n", variant.label());
			}
		}
		Map<Variant, List<Sample>> samples = new EnumMap<>(Variant.class);
		for (int round = 0; round < this.rounds; round++) {
			List<Variant> order = new ArrayList<>(this.variants);
			if (round % 2 == 1) {
				Collections.reverse(order);
			}
			for (Variant variant : order) {
				try (Deployment deployment = Deployment.start(variant)) {
					Sample sample = measure(deployment, variant);
					samples.computeIfAbsent(variant, (key) -> new ArrayList<>()).add(sample);
					System.out.printf(Locale.ROOT, "round %d %-32s unary %8.0f/s p50 %6.0fus p99 %6.0fus stream %8.0f msg/s churn %6.0f rpc/s%n",
							round + 1, variant.label(), sample.unaryPerSecond(), sample.p50Micros(), sample.p99Micros(),
							sample.streamPerSecond(), sample.churnPerSecond());
				}
			}
		}
		return samples;
	}

	/** The event-loop threads (by name prefix) seen while each variant's unary load ran in round 1. */
	Map<Variant, Map<String, Integer>> threads() {
		return this.threads;
	}

	private Sample measure(Deployment deployment, Variant variant) throws Exception {
		ManagedChannel channel = deployment.channel();
		unary(channel, this.warmup);
		UnaryResult unary = unary(channel, this.measure);
		this.threads.computeIfAbsent(variant, (key) -> EventLoops.liveThreads());
		stream(channel, this.warmup.dividedBy(2));
		double stream = stream(channel, this.measure);
		double churn = churn(deployment, 10);
		return new Sample(unary.perSecond, unary.p50Micros, unary.p99Micros, stream, churn);
	}

	private record UnaryResult(double perSecond, double p50Micros, double p99Micros) {
	}

	/** {@value #CONCURRENCY} calls always in flight, each completion starting the next. */
	private static UnaryResult unary(ManagedChannel channel, Duration duration) throws InterruptedException {
		BenchServiceGrpc.BenchServiceStub stub = BenchServiceGrpc.newStub(channel);
		Recorder recorder = new Recorder(3);
		AtomicBoolean running = new AtomicBoolean(true);
		AtomicLong completed = new AtomicLong();
		CountDownLatch lanesDone = new CountDownLatch(CONCURRENCY);
		for (int lane = 0; lane < CONCURRENCY; lane++) {
			new Lane(stub, recorder, running, completed, lanesDone).next();
		}
		Thread.sleep(duration.toMillis());
		running.set(false);
		long calls = completed.get();
		lanesDone.await(10, TimeUnit.SECONDS);
		Histogram histogram = recorder.getIntervalHistogram();
		return new UnaryResult(calls / (duration.toNanos() / 1e9), histogram.getValueAtPercentile(50),
				histogram.getValueAtPercentile(99));
	}

	private static final class Lane implements StreamObserver<Payload> {

		private final BenchServiceGrpc.BenchServiceStub stub;

		private final Recorder recorder;

		private final AtomicBoolean running;

		private final AtomicLong completed;

		private final CountDownLatch done;

		private long startedAt;

		Lane(BenchServiceGrpc.BenchServiceStub stub, Recorder recorder, AtomicBoolean running, AtomicLong completed,
				CountDownLatch done) {
			this.stub = stub;
			this.recorder = recorder;
			this.running = running;
			this.completed = completed;
			this.done = done;
		}

		void next() {
			if (!this.running.get()) {
				this.done.countDown();
				return;
			}
			this.startedAt = System.nanoTime();
			this.stub.echo(SMALL, this);
		}

		@Override
		public void onNext(Payload value) {
		}

		@Override
		public void onError(Throwable error) {
			this.done.countDown();
		}

		@Override
		public void onCompleted() {
			if (this.running.get()) {
				this.recorder.recordValue((System.nanoTime() - this.startedAt) / 1000);
				this.completed.incrementAndGet();
			}
			next();
		}

	}

	/** One server stream of 1 KiB messages, as fast as flow control allows; messages per second. */
	private static double stream(ManagedChannel channel, Duration duration) throws InterruptedException {
		AtomicLong received = new AtomicLong();
		CountDownLatch ended = new CountDownLatch(1);
		ClientCallStreamObserver<?>[] call = new ClientCallStreamObserver<?>[1];
		BenchServiceGrpc.newStub(channel)
			.stream(StreamRequest.newBuilder().setCount(Integer.MAX_VALUE).setSize(1024).build(),
					new ClientResponseObserver<StreamRequest, Payload>() {

						@Override
						public void beforeStart(ClientCallStreamObserver<StreamRequest> requestStream) {
							call[0] = requestStream;
						}

						@Override
						public void onNext(Payload value) {
							received.incrementAndGet();
						}

						@Override
						public void onError(Throwable error) {
							ended.countDown();
						}

						@Override
						public void onCompleted() {
							ended.countDown();
						}

					});
		Thread.sleep(500);
		long from = received.get();
		long start = System.nanoTime();
		Thread.sleep(duration.toMillis());
		long count = received.get() - from;
		double seconds = (System.nanoTime() - start) / 1e9;
		call[0].cancel("measured", null);
		ended.await(5, TimeUnit.SECONDS);
		return count / seconds;
	}

	/**
	 * A new plain grpc-java connection every 100 calls, to the variant's server, on client
	 * event loops that are the same for every variant; calls per second.
	 */
	private static double churn(Deployment deployment, int connections) {
		long start = System.nanoTime();
		for (int i = 0; i < connections; i++) {
			ManagedChannel channel = deployment.newPlainChannel();
			BenchServiceGrpc.BenchServiceBlockingStub stub = BenchServiceGrpc.newBlockingStub(channel);
			for (int call = 0; call < 100; call++) {
				stub.echo(SMALL);
			}
			channel.shutdownNow();
		}
		return connections * 100 / ((System.nanoTime() - start) / 1e9);
	}

	static double median(double[] values) {
		double[] sorted = values.clone();
		Arrays.sort(sorted);
		int middle = sorted.length / 2;
		return (sorted.length % 2 == 1) ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
	}

}

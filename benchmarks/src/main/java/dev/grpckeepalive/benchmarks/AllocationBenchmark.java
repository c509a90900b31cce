package dev.grpckeepalive.benchmarks;

import java.util.Locale;
import java.util.concurrent.TimeUnit;

import com.google.protobuf.ByteString;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import dev.grpckeepalive.benchmarks.proto.BenchServiceGrpc;
import dev.grpckeepalive.benchmarks.proto.Payload;

/**
 * Bytes allocated per unary call, client and server together in one JVM, for plain
 * grpc-java (a) and this starter with tracker and frame observer (b). JMH's GC profiler
 * reports {@code gc.alloc.rate.norm}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 3, jvmArgsAppend = "-Xmx2g")
public class AllocationBenchmark {

	private static final Payload SMALL = Payload.newBuilder().setData(ByteString.copyFromUtf8("0123456789abcdef")).build();

	@Param({ "PLAIN", "STARTER" })
	public Variant variant;

	private Deployment deployment;

	private BenchServiceGrpc.BenchServiceBlockingStub stub;

	@Setup
	public void start() {
		this.deployment = Deployment.start(this.variant);
		this.stub = BenchServiceGrpc.newBlockingStub(this.deployment.channel());
	}

	@TearDown
	public void stop() {
		this.deployment.close();
	}

	@Benchmark
	public Payload unaryCall() {
		return this.stub.echo(SMALL);
	}

	static String runAndReport() throws Exception {
		StringBuilder table = new StringBuilder("### Allocation per unary call (JMH, gc profiler)\n\n");
		table.append("3 forks x 5 iterations of 3 s, one thread, client and server in one JVM.\n\n");
		table.append("| variant | bytes/call | error (99.9%) | µs/call | ratio to (a) |\n|---|---|---|---|---|\n");
		double plainBytes = 0;
		for (RunResult result : new Runner(new OptionsBuilder().include(AllocationBenchmark.class.getName())
			.addProfiler(GCProfiler.class)
			.build()).run()) {
			Result<?> bytes = result.getSecondaryResults().get("gc.alloc.rate.norm");
			String variant = result.getParams().getParam("variant");
			if (variant.equals("PLAIN")) {
				plainBytes = bytes.getScore();
			}
			table.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.1f | %s |%n",
					Variant.valueOf(variant).label(), bytes.getScore(), bytes.getScoreError(),
					result.getPrimaryResult().getScore(),
					(plainBytes > 0) ? String.format(Locale.ROOT, "%.3f", bytes.getScore() / plainBytes) : "1.000"));
		}
		return table.append('\n').toString();
	}

}

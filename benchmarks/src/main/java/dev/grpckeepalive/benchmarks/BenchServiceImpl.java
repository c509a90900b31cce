package dev.grpckeepalive.benchmarks;

import com.google.protobuf.ByteString;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

import dev.grpckeepalive.benchmarks.proto.BenchServiceGrpc;
import dev.grpckeepalive.benchmarks.proto.Payload;
import dev.grpckeepalive.benchmarks.proto.StreamRequest;

/** The service every variant serves: echo, and a stream that respects flow control. */
public class BenchServiceImpl extends BenchServiceGrpc.BenchServiceImplBase {

	@Override
	public void echo(Payload request, StreamObserver<Payload> responseObserver) {
		responseObserver.onNext(request);
		responseObserver.onCompleted();
	}

	@Override
	public void stream(StreamRequest request, StreamObserver<Payload> responseObserver) {
		ServerCallStreamObserver<Payload> call = (ServerCallStreamObserver<Payload>) responseObserver;
		Payload message = Payload.newBuilder().setData(ByteString.copyFrom(new byte[request.getSize()])).build();
		int[] sent = { 0 };
		call.setOnReadyHandler(() -> {
			while (call.isReady() && sent[0] < request.getCount() && !call.isCancelled()) {
				call.onNext(message);
				sent[0]++;
			}
			if (sent[0] == request.getCount()) {
				sent[0]++;
				call.onCompleted();
			}
		});
	}

}

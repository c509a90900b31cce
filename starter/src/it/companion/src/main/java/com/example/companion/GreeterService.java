package com.example.companion;

import io.grpc.stub.StreamObserver;

import com.example.companion.proto.GreeterGrpc;
import com.example.companion.proto.HelloReply;
import com.example.companion.proto.HelloRequest;

import org.springframework.stereotype.Service;

/** A gRPC service, served by Spring Boot's gRPC server. */
@Service
public class GreeterService extends GreeterGrpc.GreeterImplBase {

	@Override
	public void sayHello(HelloRequest request, StreamObserver<HelloReply> responseObserver) {
		responseObserver.onNext(HelloReply.newBuilder().setMessage("Hello, " + request.getName()).build());
		responseObserver.onCompleted();
	}

}

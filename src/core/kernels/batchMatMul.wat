;; Batched matrix products for the wasm backend, C[b] = A[b] x B[b] for every b:
;; A [batch, m, k], B [batch, k, n], C [batch, m, n], row-major float32, in the
;; backend's own memory (pointers in bytes). tfjs's wasm backend runs products
;; whose two operands both have a batch through a scalar loop (about 1 GFLOP/s
;; on attention's [32, 4, 20, 20] x [32, 4, 20, 16]); this one keeps 16 columns
;; of a row of C in four SIMD registers while it walks k.
;; Built into batchMatMulWasm.ts by scripts/buildKernels.ts (npm run kernels).
(module
  (import "env" "memory" (memory 0))
  (func (export "bmm") (param $a i32) (param $b i32) (param $c i32) (param $batch i32) (param $m i32) (param $k i32) (param $n i32)
    (local $i i32) (local $j i32) (local $p i32)
    (local $arow i32) (local $bp i32) (local $cp i32) (local $ap i32)
    (local $nb i32) (local $sa i32) (local $sb i32) (local $sc i32)
    (local $s f32) (local $av v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    ;; strides in bytes: a row of B or C, one batch of A, B and C
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $sa (i32.shl (i32.mul (local.get $m) (local.get $k)) (i32.const 2)))
    (local.set $sb (i32.mul (local.get $k) (local.get $nb)))
    (local.set $sc (i32.mul (local.get $m) (local.get $nb)))
    (block $batches_done
      (loop $batches
        (br_if $batches_done (i32.eqz (local.get $batch)))
        (local.set $i (i32.const 0))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.ge_u (local.get $i) (local.get $m)))
            (local.set $arow (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 2))))
            (local.set $cp (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $nb))))
            (local.set $j (i32.const 0))
            ;; 16 columns at a time
            (block $wide_done
              (loop $wide
                (br_if $wide_done (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $n)))
                (local.set $c0 (v128.const i32x4 0 0 0 0))
                (local.set $c1 (v128.const i32x4 0 0 0 0))
                (local.set $c2 (v128.const i32x4 0 0 0 0))
                (local.set $c3 (v128.const i32x4 0 0 0 0))
                (local.set $bp (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
                (local.set $ap (local.get $arow))
                (local.set $p (i32.const 0))
                (block $wide_k_done
                  (loop $wide_k
                    (br_if $wide_k_done (i32.ge_u (local.get $p) (local.get $k)))
                    (local.set $av (f32x4.splat (f32.load (local.get $ap))))
                    (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $av) (v128.load offset=0 align=4 (local.get $bp)))))
                    (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $av) (v128.load offset=16 align=4 (local.get $bp)))))
                    (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $av) (v128.load offset=32 align=4 (local.get $bp)))))
                    (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $av) (v128.load offset=48 align=4 (local.get $bp)))))
                    (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
                    (local.set $bp (i32.add (local.get $bp) (local.get $nb)))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (br $wide_k)))
                (v128.store offset=0 align=4 (i32.add (local.get $cp) (i32.shl (local.get $j) (i32.const 2))) (local.get $c0))
                (v128.store offset=16 align=4 (i32.add (local.get $cp) (i32.shl (local.get $j) (i32.const 2))) (local.get $c1))
                (v128.store offset=32 align=4 (i32.add (local.get $cp) (i32.shl (local.get $j) (i32.const 2))) (local.get $c2))
                (v128.store offset=48 align=4 (i32.add (local.get $cp) (i32.shl (local.get $j) (i32.const 2))) (local.get $c3))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (br $wide)))
            ;; then 4 at a time
            (block $narrow_done
              (loop $narrow
                (br_if $narrow_done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $n)))
                (local.set $c0 (v128.const i32x4 0 0 0 0))
                (local.set $bp (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
                (local.set $ap (local.get $arow))
                (local.set $p (i32.const 0))
                (block $narrow_k_done
                  (loop $narrow_k
                    (br_if $narrow_k_done (i32.ge_u (local.get $p) (local.get $k)))
                    (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (f32x4.splat (f32.load (local.get $ap))) (v128.load align=4 (local.get $bp)))))
                    (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
                    (local.set $bp (i32.add (local.get $bp) (local.get $nb)))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (br $narrow_k)))
                (v128.store align=4 (i32.add (local.get $cp) (i32.shl (local.get $j) (i32.const 2))) (local.get $c0))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $narrow)))
            ;; and the last columns one by one
            (block $tail_done
              (loop $tail
                (br_if $tail_done (i32.ge_u (local.get $j) (local.get $n)))
                (local.set $s (f32.const 0))
                (local.set $bp (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
                (local.set $ap (local.get $arow))
                (local.set $p (i32.const 0))
                (block $tail_k_done
                  (loop $tail_k
                    (br_if $tail_k_done (i32.ge_u (local.get $p) (local.get $k)))
                    (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $ap)) (f32.load (local.get $bp)))))
                    (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
                    (local.set $bp (i32.add (local.get $bp) (local.get $nb)))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (br $tail_k)))
                (f32.store (i32.add (local.get $cp) (i32.shl (local.get $j) (i32.const 2))) (local.get $s))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $tail)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rows)))
        (local.set $a (i32.add (local.get $a) (local.get $sa)))
        (local.set $b (i32.add (local.get $b) (local.get $sb)))
        (local.set $c (i32.add (local.get $c) (local.get $sc)))
        (local.set $batch (i32.sub (local.get $batch) (i32.const 1)))
        (br $batches)))))

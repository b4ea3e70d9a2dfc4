;; Matrix products for the wasm backend, C[b] = A[b] x B[b] for every b of a
;; batch (one for a plain product): A [batch, m, k], B [batch, k, n], C [batch,
;; m, n], row-major float32, in the backend's own memory (pointers in bytes).
;; Blocks of 4 rows x 8 columns of C sit in eight SIMD registers while k is
;; walked: each step loads 8 floats of a row of B once for 4 rows of A. Edges:
;; single rows, a 4-column panel, the last columns one by one. The sums run in
;; the order p = 0 .. k-1 for every entry, each step rounded alike (fused in
;; the last columns too), so an entry's value does not depend on where it
;; falls: a product and its transpose agree bit for bit.
;;
;; Either operand may be stored transposed ($ta: A as [batch, k, m]; $tb: B as
;; [batch, n, k]), as backpropagation asks, with no transposed tensor made: a
;; transposed A is turned, batch by batch, into $scratch (m x k floats, in
;; blocks of 4 x 4 in SIMD registers; read by strides instead, A's rows would
;; share cache lines the panels reread). B's panels of 8 columns are packed
;; after it, each as k rows of 8 (k x 8 x floor(n / 8) floats, at least k x 4),
;; when B is transposed or A has 16 rows or more. The caller gives $scratch
;; (wasmKernels.ts's productScratchFloats). The same sums in the same order as
;; on transposed copies.
;;
;; Multiply-adds are f32x4.relaxed_madd: fused (one rounding) on every x86-64
;; CPU with FMA3 and on ARM64. scripts/buildKernels.ts also builds a variant
;; with a separate multiply and add, for engines without relaxed SIMD.
;; $bias (0 for none): n floats added to every row of C as it is stored, the
;; last rounding, as a separate sum after the product would add them; then
;; $res (0 for none), a residual of C's shape added the same way (x + the
;; layer's output, with one rounding more).
;; $causal, for attention's products (each batch a [T, T] grid; 0: none):
;; 1, A is zero above its diagonal (a row's weights over the columns it may
;; read): a block of 4 rows sums p only to its last row's diagonal; 2, A is zero
;; below it (such weights transposed): a block sums p from its first row on;
;; 3, only C's entries on and below its diagonal are needed: the blocks of 4 x
;; 8 wholly above it, and the last columns' entries above it, are stored as zeros. The terms left out are exact zeros
;; (a multiply-add of 0 leaves a sum as it is), so 1 and 2 give the numbers of
;; the whole product; edges (single rows, the last columns) are summed whole.
;; Built into matMulWasm.ts by scripts/buildKernels.ts (npm run kernels).
(module
  (import "env" "memory" (memory 0))
  (func (export "matMul") (param $a i32) (param $b i32) (param $c i32) (param $batch i32) (param $m i32) (param $k i32) (param $n i32) (param $ta i32) (param $tb i32) (param $scratch i32) (param $bias i32) (param $res i32) (param $causal i32)
    (local $skip i32)
    (local $i i32) (local $j i32) (local $p i32)
    (local $arow i32) (local $ap i32) (local $bcol i32) (local $bp i32) (local $cp i32)
    (local $kb i32) (local $nb i32) (local $nc2 i32) (local $nc3 i32)
    (local $sa i32) (local $sb i32) (local $sc i32)
    (local $ai i32) (local $ai2 i32) (local $ai3 i32) (local $pa i32) (local $bs i32) (local $bj i32) (local $bpp i32)
    (local $ab i32) (local $packed i32) (local $k0 i32) (local $klen i32) (local $pk i32) (local $i0 i32) (local $iend i32) (local $mq i32) (local $b0 v128) (local $b1 v128) (local $rd i32)
    (local $av v128) (local $x0 v128) (local $x1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    ;; in bytes: a row of A, B and C, 2 and 3 rows further, one batch of A, B and C
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $nc2 (i32.shl (local.get $nb) (i32.const 1)))
    (local.set $nc3 (i32.add (local.get $nc2) (local.get $nb)))
    (local.set $sa (i32.mul (local.get $m) (local.get $kb)))
    (local.set $sb (i32.mul (local.get $k) (local.get $nb)))
    (local.set $sc (i32.mul (local.get $m) (local.get $nb)))
    ;; A's entry (i, p) is at i * $ai + p * $pa; in the last columns, B's (p, j) at p * $bpp + j * $bj
    (local.set $ai (local.get $kb))
    (local.set $pa (i32.const 4))
    ;; where a transposed B's panels are packed: after a transposed A's copy
    (local.set $packed (local.get $scratch))
    (if (local.get $ta) (then (local.set $packed (i32.add (local.get $scratch) (i32.mul (local.get $m) (local.get $kb))))))
    (local.set $ai2 (i32.shl (local.get $ai) (i32.const 1)))
    (local.set $ai3 (i32.add (local.get $ai2) (local.get $ai)))
    (if (local.get $tb)
      (then (local.set $bj (local.get $kb)) (local.set $bpp (i32.const 4)))
      (else (local.set $bj (i32.const 4)) (local.set $bpp (local.get $nb))))
    (block $batches_done
      (loop $batches
        (br_if $batches_done (i32.eqz (local.get $batch)))
        ;; the A the panels read: this batch's, or its transposed copy
        (local.set $ab (local.get $a))
        ;; the residual's entry for C's at address p is at p + $rd
        (local.set $rd (i32.sub (local.get $res) (local.get $c)))
        (if (local.get $ta)
          (then (call $transpose (local.get $a) (local.get $scratch) (local.get $k) (local.get $m) (local.get $m)) (local.set $ab (local.get $scratch))))
        ;; B's panels of 8 columns, each packed as k rows of 8 (when B is transposed, or A has 16 rows
        ;; or more): a panel's rows then share cache lines, where B's own rows, a power of two apart,
        ;; would fall in the same few cache sets
        (local.set $pk (i32.or (local.get $tb) (i32.ge_u (local.get $m) (i32.const 16))))
        (if (local.get $pk)
          (then
            (local.set $j (i32.const 0))
            (block $pack_done
              (loop $pack_panels
                (br_if $pack_done (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $n)))
                (if (local.get $tb)
                  (then (call $pack (local.get $b) (i32.add (local.get $packed) (i32.mul (local.get $j) (local.get $kb))) (local.get $j) (local.get $k) (i32.const 8)))
                  (else (call $packRows (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $packed) (i32.mul (local.get $j) (local.get $kb))) (local.get $k) (local.get $nb))))
                (local.set $j (i32.add (local.get $j) (i32.const 8)))
                (br $pack_panels)))))
        ;; four rows at a time: k in blocks of 256, then the rows in blocks of 64, then the panels (a
        ;; panel's block, 8 KB, stays in L1 and the rows' block, up to 64 KB, in L2 while they meet;
        ;; each k block goes on from the sums stored by the last, so every entry still sums
        ;; p = 0 .. k-1 in order)
        (local.set $mq (i32.and (local.get $m) (i32.const -4)))
        (local.set $k0 (i32.const 0))
        (loop $k_blocks
          (local.set $klen (i32.sub (local.get $k) (local.get $k0)))
          (if (i32.gt_u (local.get $klen) (i32.const 256)) (then (local.set $klen (i32.const 256))))
          (local.set $i0 (i32.const 0))
          (block $row_blocks_done
            (loop $row_blocks
              (br_if $row_blocks_done (i32.ge_u (local.get $i0) (local.get $mq)))
              (local.set $iend (i32.add (local.get $i0) (i32.const 64)))
              (if (i32.gt_u (local.get $iend) (local.get $mq)) (then (local.set $iend (local.get $mq))))
              (local.set $j (i32.const 0))
              (block $panels_done
                (loop $panels
                  (br_if $panels_done (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $n)))
                  (if (local.get $pk)
                    (then (local.set $bcol (i32.add (local.get $packed) (i32.mul (local.get $j) (local.get $kb)))) (local.set $bs (i32.const 32)))
                    (else (local.set $bcol (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2)))) (local.set $bs (local.get $nb))))
                  ;; the bias's 8 columns, added to the last k block's sums as they are stored
                  (if (local.get $bias) (then
                    (local.set $b0 (v128.load offset=0 align=4 (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))
                    (local.set $b1 (v128.load offset=16 align=4 (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))))
                  (local.set $i (local.get $i0))
                  (block $w8_quads_done
                    (loop $w8_quads
                      (br_if $w8_quads_done (i32.ge_u (local.get $i) (local.get $iend)))
                      (local.set $arow (i32.add (local.get $ab) (i32.mul (local.get $i) (local.get $ai))))
                      (local.set $cp (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $nb))) (i32.shl (local.get $j) (i32.const 2))))
                      (if (local.get $k0)
                        (then
                          (local.set $c00 (v128.load offset=0 align=4 (local.get $cp)))
                          (local.set $c01 (v128.load offset=16 align=4 (local.get $cp)))
                          (local.set $c10 (v128.load offset=0 align=4 (i32.add (local.get $cp) (local.get $nb))))
                          (local.set $c11 (v128.load offset=16 align=4 (i32.add (local.get $cp) (local.get $nb))))
                          (local.set $c20 (v128.load offset=0 align=4 (i32.add (local.get $cp) (local.get $nc2))))
                          (local.set $c21 (v128.load offset=16 align=4 (i32.add (local.get $cp) (local.get $nc2))))
                          (local.set $c30 (v128.load offset=0 align=4 (i32.add (local.get $cp) (local.get $nc3))))
                          (local.set $c31 (v128.load offset=16 align=4 (i32.add (local.get $cp) (local.get $nc3)))))
                        (else
                          (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0)) (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0)) (local.set $c20 (v128.const i32x4 0 0 0 0)) (local.set $c21 (v128.const i32x4 0 0 0 0)) (local.set $c30 (v128.const i32x4 0 0 0 0)) (local.set $c31 (v128.const i32x4 0 0 0 0))))
                      ;; attention's causal shapes (see above): the terms known to be zero left out, or the block not needed
                      (local.set $skip (i32.const 0))
                      (local.set $p (local.get $klen))
                      (if (i32.eq (local.get $causal) (i32.const 1))
                        (then (if (i32.lt_s (i32.sub (i32.add (local.get $i) (i32.const 4)) (local.get $k0)) (local.get $p))
                          (then (local.set $p (select (i32.sub (i32.add (local.get $i) (i32.const 4)) (local.get $k0)) (i32.const 0) (i32.gt_s (i32.sub (i32.add (local.get $i) (i32.const 4)) (local.get $k0)) (i32.const 0))))))))
                      (if (i32.eq (local.get $causal) (i32.const 2))
                        (then (if (i32.gt_u (local.get $i) (local.get $k0))
                          (then (local.set $skip (i32.sub (local.get $i) (local.get $k0)))
                            (if (i32.gt_u (local.get $skip) (local.get $p)) (then (local.set $skip (local.get $p))))
                            (local.set $p (i32.sub (local.get $p) (local.get $skip)))))))
                      (if (i32.and (i32.eq (local.get $causal) (i32.const 3)) (i32.gt_u (local.get $j) (i32.add (local.get $i) (i32.const 3))))
                        (then
                          (local.set $p (i32.const 0))
                          (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0)) (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0)) (local.set $c20 (v128.const i32x4 0 0 0 0)) (local.set $c21 (v128.const i32x4 0 0 0 0)) (local.set $c30 (v128.const i32x4 0 0 0 0)) (local.set $c31 (v128.const i32x4 0 0 0 0))))
                      (local.set $ap (i32.add (local.get $arow) (i32.mul (i32.add (local.get $k0) (local.get $skip)) (local.get $pa))))
                      (local.set $bp (i32.add (local.get $bcol) (i32.mul (i32.add (local.get $k0) (local.get $skip)) (local.get $bs))))
                      (block $k4x8_done
                        (loop $k4x8
                          (br_if $k4x8_done (i32.eqz (local.get $p)))
                          (local.set $x0 (v128.load offset=0 align=4 (local.get $bp)))
                          (local.set $x1 (v128.load offset=16 align=4 (local.get $bp)))
                          (local.set $av (v128.load32_splat align=4 (local.get $ap)))
                          (local.set $c00 (f32x4.relaxed_madd (local.get $av) (local.get $x0) (local.get $c00)))
                          (local.set $c01 (f32x4.relaxed_madd (local.get $av) (local.get $x1) (local.get $c01)))
                          (local.set $av (v128.load32_splat align=4 (i32.add (local.get $ap) (local.get $ai))))
                          (local.set $c10 (f32x4.relaxed_madd (local.get $av) (local.get $x0) (local.get $c10)))
                          (local.set $c11 (f32x4.relaxed_madd (local.get $av) (local.get $x1) (local.get $c11)))
                          (local.set $av (v128.load32_splat align=4 (i32.add (local.get $ap) (local.get $ai2))))
                          (local.set $c20 (f32x4.relaxed_madd (local.get $av) (local.get $x0) (local.get $c20)))
                          (local.set $c21 (f32x4.relaxed_madd (local.get $av) (local.get $x1) (local.get $c21)))
                          (local.set $av (v128.load32_splat align=4 (i32.add (local.get $ap) (local.get $ai3))))
                          (local.set $c30 (f32x4.relaxed_madd (local.get $av) (local.get $x0) (local.get $c30)))
                          (local.set $c31 (f32x4.relaxed_madd (local.get $av) (local.get $x1) (local.get $c31)))
                          (local.set $ap (i32.add (local.get $ap) (local.get $pa)))
                          (local.set $bp (i32.add (local.get $bp) (local.get $bs)))
                          (local.set $p (i32.sub (local.get $p) (i32.const 1)))
                          (br $k4x8)))
                      (if (i32.and (i32.ne (local.get $bias) (i32.const 0)) (i32.ge_u (i32.add (local.get $k0) (i32.const 256)) (local.get $k)))
                        (then
                          (local.set $c00 (f32x4.add (local.get $c00) (local.get $b0))) (local.set $c01 (f32x4.add (local.get $c01) (local.get $b1)))
                          (local.set $c10 (f32x4.add (local.get $c10) (local.get $b0))) (local.set $c11 (f32x4.add (local.get $c11) (local.get $b1)))
                          (local.set $c20 (f32x4.add (local.get $c20) (local.get $b0))) (local.set $c21 (f32x4.add (local.get $c21) (local.get $b1)))
                          (local.set $c30 (f32x4.add (local.get $c30) (local.get $b0))) (local.set $c31 (f32x4.add (local.get $c31) (local.get $b1)))))
                      (if (i32.and (i32.ne (local.get $res) (i32.const 0)) (i32.ge_u (i32.add (local.get $k0) (i32.const 256)) (local.get $k)))
                        (then
                          (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 align=4 (i32.add (local.get $cp) (local.get $rd)))))
                          (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 align=4 (i32.add (local.get $cp) (local.get $rd)))))
                          (local.set $c10 (f32x4.add (local.get $c10) (v128.load offset=0 align=4 (i32.add (i32.add (local.get $cp) (local.get $nb)) (local.get $rd)))))
                          (local.set $c11 (f32x4.add (local.get $c11) (v128.load offset=16 align=4 (i32.add (i32.add (local.get $cp) (local.get $nb)) (local.get $rd)))))
                          (local.set $c20 (f32x4.add (local.get $c20) (v128.load offset=0 align=4 (i32.add (i32.add (local.get $cp) (local.get $nc2)) (local.get $rd)))))
                          (local.set $c21 (f32x4.add (local.get $c21) (v128.load offset=16 align=4 (i32.add (i32.add (local.get $cp) (local.get $nc2)) (local.get $rd)))))
                          (local.set $c30 (f32x4.add (local.get $c30) (v128.load offset=0 align=4 (i32.add (i32.add (local.get $cp) (local.get $nc3)) (local.get $rd)))))
                          (local.set $c31 (f32x4.add (local.get $c31) (v128.load offset=16 align=4 (i32.add (i32.add (local.get $cp) (local.get $nc3)) (local.get $rd)))))))
                      (v128.store offset=0 align=4 (local.get $cp) (local.get $c00))
                      (v128.store offset=16 align=4 (local.get $cp) (local.get $c01))
                      (v128.store offset=0 align=4 (i32.add (local.get $cp) (local.get $nb)) (local.get $c10))
                      (v128.store offset=16 align=4 (i32.add (local.get $cp) (local.get $nb)) (local.get $c11))
                      (v128.store offset=0 align=4 (i32.add (local.get $cp) (local.get $nc2)) (local.get $c20))
                      (v128.store offset=16 align=4 (i32.add (local.get $cp) (local.get $nc2)) (local.get $c21))
                      (v128.store offset=0 align=4 (i32.add (local.get $cp) (local.get $nc3)) (local.get $c30))
                      (v128.store offset=16 align=4 (i32.add (local.get $cp) (local.get $nc3)) (local.get $c31))
                      (local.set $i (i32.add (local.get $i) (i32.const 4)))
                      (br $w8_quads)))
                  (local.set $j (i32.add (local.get $j) (i32.const 8)))
                  (br $panels)))
              (local.set $i0 (local.get $iend))
              (br $row_blocks)))
          (local.set $k0 (i32.add (local.get $k0) (i32.const 256)))
          (br_if $k_blocks (i32.lt_u (local.get $k0) (local.get $k))))
        ;; the last rows one by one, panel by panel
        (local.set $j (i32.const 0))
        (block $single_panels_done
          (loop $single_panels
            (br_if $single_panels_done (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $n)))
            (if (local.get $pk)
              (then (local.set $bcol (i32.add (local.get $packed) (i32.mul (local.get $j) (local.get $kb)))) (local.set $bs (i32.const 32)))
              (else (local.set $bcol (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2)))) (local.set $bs (local.get $nb))))
            (if (local.get $bias) (then
              (local.set $b0 (v128.load offset=0 align=4 (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))
              (local.set $b1 (v128.load offset=16 align=4 (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))))
            (local.set $i (local.get $mq))
            (block $w8_singles_done
              (loop $w8_singles
                (br_if $w8_singles_done (i32.ge_u (local.get $i) (local.get $m)))
                (local.set $arow (i32.add (local.get $ab) (i32.mul (local.get $i) (local.get $ai))))
                (local.set $cp (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $nb))) (i32.shl (local.get $j) (i32.const 2))))
                (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
                (local.set $ap (local.get $arow))
                (local.set $bp (local.get $bcol))
                (local.set $p (local.get $k))
                (block $k1x8_done
                  (loop $k1x8
                    (br_if $k1x8_done (i32.eqz (local.get $p)))
                    (local.set $x0 (v128.load offset=0 align=4 (local.get $bp)))
                    (local.set $x1 (v128.load offset=16 align=4 (local.get $bp)))
                    (local.set $av (v128.load32_splat align=4 (local.get $ap)))
                    (local.set $c00 (f32x4.relaxed_madd (local.get $av) (local.get $x0) (local.get $c00)))
                    (local.set $c01 (f32x4.relaxed_madd (local.get $av) (local.get $x1) (local.get $c01)))
                    (local.set $ap (i32.add (local.get $ap) (local.get $pa)))
                    (local.set $bp (i32.add (local.get $bp) (local.get $bs)))
                    (local.set $p (i32.sub (local.get $p) (i32.const 1)))
                    (br $k1x8)))
                (if (local.get $bias) (then (local.set $c00 (f32x4.add (local.get $c00) (local.get $b0))) (local.set $c01 (f32x4.add (local.get $c01) (local.get $b1)))))
                (if (local.get $res) (then
                  (local.set $c00 (f32x4.add (local.get $c00) (v128.load offset=0 align=4 (i32.add (local.get $cp) (local.get $rd)))))
                  (local.set $c01 (f32x4.add (local.get $c01) (v128.load offset=16 align=4 (i32.add (local.get $cp) (local.get $rd)))))))
                (v128.store offset=0 align=4 (local.get $cp) (local.get $c00))
                (v128.store offset=16 align=4 (local.get $cp) (local.get $c01))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $w8_singles)))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $single_panels)))
        ;; then a panel of 4 columns
        (if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $n))
          (then
            (if (local.get $tb)
              (then (call $pack (local.get $b) (local.get $packed) (local.get $j) (local.get $k) (i32.const 4))
                (local.set $bcol (local.get $packed)) (local.set $bs (i32.const 16)))
              (else (local.set $bcol (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2)))) (local.set $bs (local.get $nb))))
            (if (local.get $bias) (then (local.set $b0 (v128.load align=4 (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))))
            (local.set $i (i32.const 0))
            ;; four rows at a time, then one by one
            (block $w4_quads_done
              (loop $w4_quads
                (br_if $w4_quads_done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $m)))
                (local.set $arow (i32.add (local.get $ab) (i32.mul (local.get $i) (local.get $ai))))
                (local.set $cp (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $nb))) (i32.shl (local.get $j) (i32.const 2))))
                (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c20 (v128.const i32x4 0 0 0 0)) (local.set $c30 (v128.const i32x4 0 0 0 0))
                (local.set $ap (local.get $arow))
                (local.set $bp (local.get $bcol))
                (local.set $p (local.get $k))
                (block $k4x4_done
                  (loop $k4x4
                    (br_if $k4x4_done (i32.eqz (local.get $p)))
                    (local.set $x0 (v128.load offset=0 align=4 (local.get $bp)))
                    (local.set $av (v128.load32_splat align=4 (local.get $ap)))
                    (local.set $c00 (f32x4.relaxed_madd (local.get $av) (local.get $x0) (local.get $c00)))
                    (local.set $av (v128.load32_splat align=4 (i32.add (local.get $ap) (local.get $ai))))
                    (local.set $c10 (f32x4.relaxed_madd (local.get $av) (local.get $x0) (local.get $c10)))
                    (local.set $av (v128.load32_splat align=4 (i32.add (local.get $ap) (local.get $ai2))))
                    (local.set $c20 (f32x4.relaxed_madd (local.get $av) (local.get $x0) (local.get $c20)))
                    (local.set $av (v128.load32_splat align=4 (i32.add (local.get $ap) (local.get $ai3))))
                    (local.set $c30 (f32x4.relaxed_madd (local.get $av) (local.get $x0) (local.get $c30)))
                    (local.set $ap (i32.add (local.get $ap) (local.get $pa)))
                    (local.set $bp (i32.add (local.get $bp) (local.get $bs)))
                    (local.set $p (i32.sub (local.get $p) (i32.const 1)))
                    (br $k4x4)))
                (if (local.get $bias) (then
                  (local.set $c00 (f32x4.add (local.get $c00) (local.get $b0))) (local.set $c10 (f32x4.add (local.get $c10) (local.get $b0)))
                  (local.set $c20 (f32x4.add (local.get $c20) (local.get $b0))) (local.set $c30 (f32x4.add (local.get $c30) (local.get $b0)))))
                (if (local.get $res) (then
                  (local.set $c00 (f32x4.add (local.get $c00) (v128.load align=4 (i32.add (local.get $cp) (local.get $rd)))))
                  (local.set $c10 (f32x4.add (local.get $c10) (v128.load align=4 (i32.add (i32.add (local.get $cp) (local.get $nb)) (local.get $rd)))))
                  (local.set $c20 (f32x4.add (local.get $c20) (v128.load align=4 (i32.add (i32.add (local.get $cp) (local.get $nc2)) (local.get $rd)))))
                  (local.set $c30 (f32x4.add (local.get $c30) (v128.load align=4 (i32.add (i32.add (local.get $cp) (local.get $nc3)) (local.get $rd)))))))
                (v128.store offset=0 align=4 (local.get $cp) (local.get $c00))
                (v128.store offset=0 align=4 (i32.add (local.get $cp) (local.get $nb)) (local.get $c10))
                (v128.store offset=0 align=4 (i32.add (local.get $cp) (local.get $nc2)) (local.get $c20))
                (v128.store offset=0 align=4 (i32.add (local.get $cp) (local.get $nc3)) (local.get $c30))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $w4_quads)))
            (block $w4_singles_done
              (loop $w4_singles
                (br_if $w4_singles_done (i32.ge_u (local.get $i) (local.get $m)))
                (local.set $arow (i32.add (local.get $ab) (i32.mul (local.get $i) (local.get $ai))))
                (local.set $cp (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $nb))) (i32.shl (local.get $j) (i32.const 2))))
                (local.set $c00 (v128.const i32x4 0 0 0 0))
                (local.set $ap (local.get $arow))
                (local.set $bp (local.get $bcol))
                (local.set $p (local.get $k))
                (block $k1x4_done
                  (loop $k1x4
                    (br_if $k1x4_done (i32.eqz (local.get $p)))
                    (local.set $x0 (v128.load offset=0 align=4 (local.get $bp)))
                    (local.set $av (v128.load32_splat align=4 (local.get $ap)))
                    (local.set $c00 (f32x4.relaxed_madd (local.get $av) (local.get $x0) (local.get $c00)))
                    (local.set $ap (i32.add (local.get $ap) (local.get $pa)))
                    (local.set $bp (i32.add (local.get $bp) (local.get $bs)))
                    (local.set $p (i32.sub (local.get $p) (i32.const 1)))
                    (br $k1x4)))
                (if (local.get $bias) (then (local.set $c00 (f32x4.add (local.get $c00) (local.get $b0)))))
                (if (local.get $res) (then (local.set $c00 (f32x4.add (local.get $c00) (v128.load align=4 (i32.add (local.get $cp) (local.get $rd)))))))
                (v128.store offset=0 align=4 (local.get $cp) (local.get $c00))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $w4_singles)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))))
        ;; and the last columns one by one
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $i (i32.const 0))
            (block $tail_rows_done
              (loop $tail_rows
                (br_if $tail_rows_done (i32.ge_u (local.get $i) (local.get $m)))
                (local.set $c00 (v128.const i32x4 0 0 0 0))
                (local.set $ap (i32.add (local.get $ab) (i32.mul (local.get $i) (local.get $ai))))
                (local.set $bp (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $bj))))
                (local.set $p (local.get $k))
                ;; causal output: an entry above the diagonal is stored as 0
                (if (i32.and (i32.eq (local.get $causal) (i32.const 3)) (i32.lt_u (local.get $i) (local.get $j))) (then (local.set $p (i32.const 0))))
                (block $tail_k_done
                  (loop $tail_k
                    (br_if $tail_k_done (i32.eqz (local.get $p)))
                    ;; in lane 0, multiplied and added as the panels are (fused where they are)
                    (local.set $av (v128.load32_splat align=4 (local.get $ap)))
                    (local.set $x0 (v128.load32_splat align=4 (local.get $bp)))
                    (local.set $c00 (f32x4.relaxed_madd (local.get $av) (local.get $x0) (local.get $c00)))
                    (local.set $ap (i32.add (local.get $ap) (local.get $pa)))
                    (local.set $bp (i32.add (local.get $bp) (local.get $bpp)))
                    (local.set $p (i32.sub (local.get $p) (i32.const 1)))
                    (br $tail_k)))
                (if (local.get $bias) (then (local.set $c00 (f32x4.add (local.get $c00) (v128.load32_splat align=4 (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))))
                (if (local.get $res) (then (local.set $c00 (f32x4.add (local.get $c00) (v128.load32_splat align=4 (i32.add (local.get $rd) (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $nb))) (i32.shl (local.get $j) (i32.const 2)))))))))
                (f32.store (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $nb))) (i32.shl (local.get $j) (i32.const 2))) (f32x4.extract_lane 0 (local.get $c00)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $tail_rows)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $tail)))
        (local.set $a (i32.add (local.get $a) (local.get $sa)))
        (local.set $b (i32.add (local.get $b) (local.get $sb)))
        (local.set $c (i32.add (local.get $c) (local.get $sc)))
        (if (local.get $res) (then (local.set $res (i32.add (local.get $res) (local.get $sc)))))
        (local.set $batch (i32.sub (local.get $batch) (i32.const 1)))
        (br $batches))))
  ;; A panel of 8 columns of a row-major B (k rows, $nb bytes apart, from $src) as k rows of 8 at $dst.
  (func $packRows (param $src i32) (param $dst i32) (param $k i32) (param $nb i32)
    (block $done
      (loop $rows
        (br_if $done (i32.eqz (local.get $k)))
        (v128.store offset=0 align=4 (local.get $dst) (v128.load offset=0 align=4 (local.get $src)))
        (v128.store offset=16 align=4 (local.get $dst) (v128.load offset=16 align=4 (local.get $src)))
        (local.set $src (i32.add (local.get $src) (local.get $nb)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $rows))))
  ;; Columns j .. j+w-1 of a transposed B ([n, k] in memory) as a [k, w] block at
  ;; $dst: B's row j+c becomes column c.
  (func $pack (param $b i32) (param $dst i32) (param $j i32) (param $k i32) (param $w i32)
    (local $c i32) (local $src i32) (local $to i32) (local $p i32)
    (local.set $c (i32.const 0))
    (block $cols_done
      (loop $cols
        (br_if $cols_done (i32.ge_u (local.get $c) (local.get $w)))
        (local.set $src (i32.add (local.get $b) (i32.shl (i32.mul (i32.add (local.get $j) (local.get $c)) (local.get $k)) (i32.const 2))))
        (local.set $to (i32.add (local.get $dst) (i32.shl (local.get $c) (i32.const 2))))
        (local.set $p (local.get $k))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.eqz (local.get $p)))
            (f32.store (local.get $to) (f32.load (local.get $src)))
            (local.set $src (i32.add (local.get $src) (i32.const 4)))
            (local.set $to (i32.add (local.get $to) (i32.shl (local.get $w) (i32.const 2))))
            (local.set $p (i32.sub (local.get $p) (i32.const 1)))
            (br $rows)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cols))))

  ;; $dst [m, k] = the transpose of $src [k, m], whose rows are $ld floats apart
  ;; (m, or more for m columns of a wider matrix): blocks of 4 x 4 turned in
  ;; SIMD registers, then the last rows and columns one by one.
  (func $transpose (export "transpose") (param $src i32) (param $dst i32) (param $k i32) (param $m i32) (param $ld i32)
    (local $p i32) (local $i i32) (local $mb i32) (local $kb i32) (local $s i32) (local $d i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $mb (i32.shl (local.get $ld) (i32.const 2)))
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (local.set $p (i32.const 0))
    (block $p4_done
      (loop $p4
        (br_if $p4_done (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $k)))
        (local.set $i (i32.const 0))
        (block $i4_done
          (loop $i4
            (br_if $i4_done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $m)))
            (local.set $s (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $p) (local.get $ld)) (local.get $i)) (i32.const 2))))
            (local.set $r0 (v128.load align=4 (local.get $s)))
            (local.set $r1 (v128.load align=4 (i32.add (local.get $s) (local.get $mb))))
            (local.set $r2 (v128.load align=4 (i32.add (local.get $s) (i32.shl (local.get $mb) (i32.const 1)))))
            (local.set $r3 (v128.load align=4 (i32.add (local.get $s) (i32.mul (local.get $mb) (i32.const 3)))))
            (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
            (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
            (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
            (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
            (local.set $d (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $k)) (local.get $p)) (i32.const 2))))
            (v128.store align=4 (local.get $d) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
            (v128.store align=4 (i32.add (local.get $d) (local.get $kb)) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
            (v128.store align=4 (i32.add (local.get $d) (i32.shl (local.get $kb) (i32.const 1))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
            (v128.store align=4 (i32.add (local.get $d) (i32.mul (local.get $kb) (i32.const 3))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $i4)))
        ;; the last columns of these 4 rows
        (block $i1_done
          (loop $i1
            (br_if $i1_done (i32.ge_u (local.get $i) (local.get $m)))
            (call $copyColumn (local.get $src) (local.get $dst) (local.get $k) (local.get $ld) (local.get $i) (local.get $p) (i32.const 4))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $i1)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $p4)))
    ;; the last rows, every column
    (if (i32.lt_u (local.get $p) (local.get $k))
      (then
        (local.set $i (i32.const 0))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $i) (local.get $m)))
            (call $copyColumn (local.get $src) (local.get $dst) (local.get $k) (local.get $ld) (local.get $i) (local.get $p) (i32.sub (local.get $k) (local.get $p)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $tail))))))

  ;; dst[i, p .. p+count-1] = src[p .. p+count-1, i] for $src [k, m] ($m floats a row), $dst [m, k]
  (func $copyColumn (param $src i32) (param $dst i32) (param $k i32) (param $m i32) (param $i i32) (param $p i32) (param $count i32)
    (local $s i32) (local $d i32)
    (local.set $s (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $p) (local.get $m)) (local.get $i)) (i32.const 2))))
    (local.set $d (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $k)) (local.get $p)) (i32.const 2))))
    (block $done
      (loop $each
        (br_if $done (i32.eqz (local.get $count)))
        (f32.store (local.get $d) (f32.load (local.get $s)))
        (local.set $s (i32.add (local.get $s) (i32.shl (local.get $m) (i32.const 2))))
        (local.set $d (i32.add (local.get $d) (i32.const 4)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $each))))
)

;; Attention's softmax over the last axis, for the wasm backend: y = softmax(x +
;; mask) per row of x [rows, n] (float32, in the backend's own memory, pointers
;; in bytes), and its gradient dx = y (dy - sum(dy y)). tfjs takes a kernel to
;; add the mask, one for the softmax and four for its gradient, each a pass over
;; the scores; these are three passes over a row forward (the masked maximum,
;; the exponentials and their sum, the division) and two backward.
;;
;; Row r of x is row (r / $ht) * $bstride + (r % $t) * $ton of the mask (the
;; mask's [B or 1, 1, T or 1, n] against x's [B, H, T, n]); no mask where $mask
;; is 0. exp as in gelu.wat (2^k exp(r), Cephes's polynomial), and exactly 0
;; below -87, where float32's exp underflows: masked columns get 0, as tfjs
;; gives them.
;; $causal: row r reads its columns up to its own only, r % $t after the
;; n - $t earlier ones (the causal mask, as if added: those columns get 0, and
;; each sum sees the same terms in the same order, the zeros left out).
;; Built into softmaxWasm.ts by scripts/buildKernels.ts (npm run kernels).
(module
  (import "env" "memory" (memory 0))

  ;; exp(t), four at a time (0 where t < -87).
  (func $exp (param $t v128) (result v128)
    (local $k v128) (local $r v128) (local $p v128) (local $c v128)
    (local.set $c (f32x4.pmin (f32x4.pmax (local.get $t) (v128.const f32x4 -87 -87 -87 -87)) (v128.const f32x4 88 88 88 88)))
    (local.set $k (f32x4.add (f32x4.mul (local.get $c) (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341)) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $p (i32x4.shl (i32x4.sub (local.get $k) (v128.const i32x4 0x4b400000 0x4b400000 0x4b400000 0x4b400000)) (i32.const 23)))
    (local.set $k (f32x4.sub (local.get $k) (v128.const f32x4 12582912 12582912 12582912 12582912)))
    (local.set $r (f32x4.sub (local.get $c) (f32x4.mul (local.get $k) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
    (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $k) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $k (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $k (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $r) (local.get $r)) (local.get $k)) (local.get $r)) (v128.const f32x4 1 1 1 1)))
    (v128.and (i32x4.add (local.get $k) (local.get $p)) (f32x4.ge (local.get $t) (v128.const f32x4 -87 -87 -87 -87))))

  ;; Rows $first .. $end-1 of x (x and y the whole tensors' addresses).
  (func $softmax (export "softmax") (param $x i32) (param $mask i32) (param $y i32) (param $first i32) (param $end i32) (param $n i32)
    (param $ht i32) (param $t i32) (param $bstride i32) (param $ton i32) (param $causal i32)
    (local $lim i32) (local $zend i32) (local $eend i32)
    (local $r i32) (local $j i32) (local $nb i32) (local $n4 i32) (local $xr i32) (local $mr i32) (local $yr i32)
    (local $v v128) (local $mx v128) (local $acc v128) (local $m f32) (local $s f32) (local $e f32)
    (local $c v128) (local $k v128) (local $q v128) (local $p v128)
    (local $ca v128) (local $ka v128) (local $qa v128) (local $pa v128) (local $va v128)
    (local $cb v128) (local $kb v128) (local $qb v128) (local $pb v128) (local $vb v128)
    (local $lo v128) (local $log2e v128) (local $magic v128) (local $bits v128) (local $ln2hi v128) (local $ln2lo v128)
    (local $e0 v128) (local $e1 v128) (local $e2 v128) (local $e3 v128) (local $e4c v128) (local $e5 v128) (local $one v128)
    ;; exp's constants, once (in registers or on the stack: cheaper than made again at each use)
    (local.set $lo (v128.const f32x4 -87 -87 -87 -87))
    (local.set $log2e (v128.const f32x4 1.44269504088896341 1.44269504088896341 1.44269504088896341 1.44269504088896341))
    (local.set $magic (v128.const f32x4 12582912 12582912 12582912 12582912))
    (local.set $bits (v128.const i32x4 0x4b400000 0x4b400000 0x4b400000 0x4b400000))
    (local.set $ln2hi (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))
    (local.set $ln2lo (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))
    (local.set $e0 (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $e1 (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3))
    (local.set $e2 (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3))
    (local.set $e3 (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2))
    (local.set $e4c (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1))
    (local.set $e5 (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1))
    (local.set $one (v128.const f32x4 1 1 1 1))
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $r (local.get $first))
    (block $done
      (loop $each_row
        (br_if $done (i32.ge_u (local.get $r) (local.get $end)))
        (local.set $xr (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $nb))))
        (local.set $yr (i32.add (local.get $y) (i32.mul (local.get $r) (local.get $nb))))
        (local.set $mr (i32.const 0))
        (if (local.get $mask)
          (then (local.set $mr (i32.add (local.get $mask) (i32.mul (local.get $nb)
            (i32.add (i32.mul (i32.div_u (local.get $r) (local.get $ht)) (local.get $bstride)) (i32.mul (i32.rem_u (local.get $r) (local.get $t)) (local.get $ton))))))))
        ;; causal: only the row's columns up to its own (r % t, after n - t earlier ones); the rest get 0
        (local.set $lim (local.get $nb))
        (if (local.get $causal) (then (local.set $lim (i32.shl (i32.add (i32.rem_u (local.get $r) (local.get $t)) (i32.add (i32.sub (local.get $n) (local.get $t)) (i32.const 1))) (i32.const 2)))
          (if (i32.gt_u (local.get $lim) (local.get $nb)) (then (local.set $lim (local.get $nb))))))
        ;; vectors wholly inside (zend), and the vectors reaching past the last column read (eend)
        (local.set $zend (i32.and (local.get $lim) (i32.const -16)))
        (if (i32.gt_u (local.get $zend) (local.get $n4)) (then (local.set $zend (local.get $n4))))
        (local.set $eend (i32.and (i32.add (local.get $lim) (i32.const 12)) (i32.const -16)))
        (if (i32.gt_u (local.get $eend) (local.get $n4)) (then (local.set $eend (local.get $n4))))
        ;; z = x + mask into y, and its maximum
        (local.set $mx (v128.const f32x4 -inf -inf -inf -inf))
        (local.set $j (i32.const 0))
        (block $z4_done (loop $z4
          (br_if $z4_done (i32.ge_u (local.get $j) (local.get $zend)))
          (local.set $v (v128.load align=4 (i32.add (local.get $xr) (local.get $j))))
          (if (local.get $mr) (then (local.set $v (f32x4.add (local.get $v) (v128.load align=4 (i32.add (local.get $mr) (local.get $j)))))))
          (v128.store align=4 (i32.add (local.get $yr) (local.get $j)) (local.get $v))
          (local.set $mx (f32x4.max (local.get $mx) (local.get $v)))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $z4)))
        (local.set $m (f32.max (f32.max (f32x4.extract_lane 0 (local.get $mx)) (f32x4.extract_lane 1 (local.get $mx))) (f32.max (f32x4.extract_lane 2 (local.get $mx)) (f32x4.extract_lane 3 (local.get $mx)))))
        (block $z1_done (loop $z1
          (br_if $z1_done (i32.ge_u (local.get $j) (local.get $lim)))
          (local.set $e (f32.load (i32.add (local.get $xr) (local.get $j))))
          (if (local.get $mr) (then (local.set $e (f32.add (local.get $e) (f32.load (i32.add (local.get $mr) (local.get $j)))))))
          (f32.store (i32.add (local.get $yr) (local.get $j)) (local.get $e))
          (local.set $m (f32.max (local.get $m) (local.get $e)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $z1)))
        ;; a last vector's columns past the row's last: nothing (exp gives them 0)
        (block $inf_done (loop $inf
          (br_if $inf_done (i32.ge_u (local.get $j) (local.get $eend)))
          (f32.store (i32.add (local.get $yr) (local.get $j)) (f32.const -inf))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $inf)))
        ;; exp(z - max) and its sum
        (local.set $mx (f32x4.splat (local.get $m)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        ;; eight at a time, two exps interleaved (independent: the engine overlaps them), then four
        (block $e8_done (loop $e8
          (br_if $e8_done (i32.gt_u (i32.add (local.get $j) (i32.const 32)) (local.get $eend)))
          (local.set $qa (f32x4.sub (v128.load align=4 (i32.add (local.get $yr) (local.get $j))) (local.get $mx)))
          (local.set $qb (f32x4.sub (v128.load offset=16 align=4 (i32.add (local.get $yr) (local.get $j))) (local.get $mx)))
          (local.set $ca (f32x4.pmax (local.get $qa) (local.get $lo)))
          (local.set $cb (f32x4.pmax (local.get $qb) (local.get $lo)))
          (local.set $ka (f32x4.add (f32x4.mul (local.get $ca) (local.get $log2e)) (local.get $magic)))
          (local.set $kb (f32x4.add (f32x4.mul (local.get $cb) (local.get $log2e)) (local.get $magic)))
          (local.set $pa (i32x4.shl (i32x4.sub (local.get $ka) (local.get $bits)) (i32.const 23)))
          (local.set $pb (i32x4.shl (i32x4.sub (local.get $kb) (local.get $bits)) (i32.const 23)))
          (local.set $ka (f32x4.sub (local.get $ka) (local.get $magic)))
          (local.set $kb (f32x4.sub (local.get $kb) (local.get $magic)))
          (local.set $ca (f32x4.sub (f32x4.sub (local.get $ca) (f32x4.mul (local.get $ka) (local.get $ln2hi))) (f32x4.mul (local.get $ka) (local.get $ln2lo))))
          (local.set $cb (f32x4.sub (f32x4.sub (local.get $cb) (f32x4.mul (local.get $kb) (local.get $ln2hi))) (f32x4.mul (local.get $kb) (local.get $ln2lo))))
          (local.set $ka (f32x4.add (f32x4.mul (local.get $e0) (local.get $ca)) (local.get $e1)))
          (local.set $kb (f32x4.add (f32x4.mul (local.get $e0) (local.get $cb)) (local.get $e1)))
          (local.set $ka (f32x4.add (f32x4.mul (local.get $ka) (local.get $ca)) (local.get $e2)))
          (local.set $kb (f32x4.add (f32x4.mul (local.get $kb) (local.get $cb)) (local.get $e2)))
          (local.set $ka (f32x4.add (f32x4.mul (local.get $ka) (local.get $ca)) (local.get $e3)))
          (local.set $kb (f32x4.add (f32x4.mul (local.get $kb) (local.get $cb)) (local.get $e3)))
          (local.set $ka (f32x4.add (f32x4.mul (local.get $ka) (local.get $ca)) (local.get $e4c)))
          (local.set $kb (f32x4.add (f32x4.mul (local.get $kb) (local.get $cb)) (local.get $e4c)))
          (local.set $ka (f32x4.add (f32x4.mul (local.get $ka) (local.get $ca)) (local.get $e5)))
          (local.set $kb (f32x4.add (f32x4.mul (local.get $kb) (local.get $cb)) (local.get $e5)))
          (local.set $ka (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $ca) (local.get $ca)) (local.get $ka)) (local.get $ca)) (local.get $one)))
          (local.set $kb (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $cb) (local.get $cb)) (local.get $kb)) (local.get $cb)) (local.get $one)))
          (local.set $va (v128.and (i32x4.add (local.get $ka) (local.get $pa)) (f32x4.ge (local.get $qa) (local.get $lo))))
          (local.set $vb (v128.and (i32x4.add (local.get $kb) (local.get $pb)) (f32x4.ge (local.get $qb) (local.get $lo))))
          (v128.store align=4 (i32.add (local.get $yr) (local.get $j)) (local.get $va))
          (v128.store offset=16 align=4 (i32.add (local.get $yr) (local.get $j)) (local.get $vb))
          ;; summed in the same order as four at a time
          (local.set $acc (f32x4.add (f32x4.add (local.get $acc) (local.get $va)) (local.get $vb)))
          (local.set $j (i32.add (local.get $j) (i32.const 32)))
          (br $e8)))
        (block $e4_done (loop $e4
          (br_if $e4_done (i32.ge_u (local.get $j) (local.get $eend)))
          ;; $exp, written out here with the constants above (the same operations)
          (local.set $q (f32x4.sub (v128.load align=4 (i32.add (local.get $yr) (local.get $j))) (local.get $mx)))
          (local.set $c (f32x4.pmax (local.get $q) (local.get $lo)))
          (local.set $k (f32x4.add (f32x4.mul (local.get $c) (local.get $log2e)) (local.get $magic)))
          (local.set $p (i32x4.shl (i32x4.sub (local.get $k) (local.get $bits)) (i32.const 23)))
          (local.set $k (f32x4.sub (local.get $k) (local.get $magic)))
          (local.set $c (f32x4.sub (f32x4.sub (local.get $c) (f32x4.mul (local.get $k) (local.get $ln2hi))) (f32x4.mul (local.get $k) (local.get $ln2lo))))
          (local.set $k (f32x4.add (f32x4.mul (local.get $e0) (local.get $c)) (local.get $e1)))
          (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $c)) (local.get $e2)))
          (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $c)) (local.get $e3)))
          (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $c)) (local.get $e4c)))
          (local.set $k (f32x4.add (f32x4.mul (local.get $k) (local.get $c)) (local.get $e5)))
          (local.set $k (f32x4.add (f32x4.add (f32x4.mul (f32x4.mul (local.get $c) (local.get $c)) (local.get $k)) (local.get $c)) (local.get $one)))
          (local.set $v (v128.and (i32x4.add (local.get $k) (local.get $p)) (f32x4.ge (local.get $q) (local.get $lo))))
          (v128.store align=4 (i32.add (local.get $yr) (local.get $j)) (local.get $v))
          (local.set $acc (f32x4.add (local.get $acc) (local.get $v)))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $e4)))
        ;; the last one to three columns (the vectors between eend and n4 are all 0) as a vector of their own,
        ;; in the lanes they would take: each column's exp goes to lane (column % 4) in column order, so a row
        ;; cut short (a decoding step's, n = its column + 1) sums what the causal row (the same column of a
        ;; longer grid) sums, in the same order
        (if (i32.gt_u (local.get $lim) (local.get $n4))
          (then
            (local.set $j (i32.add (local.get $yr) (local.get $n4)))
            (local.set $v (f32x4.replace_lane 0 (v128.const f32x4 -inf -inf -inf -inf) (f32.load (local.get $j))))
            (if (i32.gt_u (local.get $lim) (i32.add (local.get $n4) (i32.const 4))) (then (local.set $v (f32x4.replace_lane 1 (local.get $v) (f32.load offset=4 (local.get $j))))))
            (if (i32.gt_u (local.get $lim) (i32.add (local.get $n4) (i32.const 8))) (then (local.set $v (f32x4.replace_lane 2 (local.get $v) (f32.load offset=8 (local.get $j))))))
            (local.set $v (call $exp (f32x4.sub (local.get $v) (local.get $mx))))
            (f32.store (local.get $j) (f32x4.extract_lane 0 (local.get $v)))
            (if (i32.gt_u (local.get $lim) (i32.add (local.get $n4) (i32.const 4))) (then (f32.store offset=4 (local.get $j) (f32x4.extract_lane 1 (local.get $v)))))
            (if (i32.gt_u (local.get $lim) (i32.add (local.get $n4) (i32.const 8))) (then (f32.store offset=8 (local.get $j) (f32x4.extract_lane 2 (local.get $v)))))
            (local.set $acc (f32x4.add (local.get $acc) (local.get $v)))))
        (local.set $s (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc))) (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        ;; divided by the sum
        (local.set $acc (f32x4.splat (local.get $s)))
        (local.set $j (i32.const 0))
        (block $d4_done (loop $d4
          (br_if $d4_done (i32.ge_u (local.get $j) (local.get $eend)))
          (v128.store align=4 (i32.add (local.get $yr) (local.get $j)) (f32x4.div (v128.load align=4 (i32.add (local.get $yr) (local.get $j))) (local.get $acc)))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $d4)))
        (block $zeros_done (loop $zeros
          (br_if $zeros_done (i32.ge_u (local.get $j) (local.get $n4)))
          (v128.store align=4 (i32.add (local.get $yr) (local.get $j)) (v128.const i32x4 0 0 0 0))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $zeros)))
        (block $d1_done (loop $d1
          (br_if $d1_done (i32.ge_u (local.get $j) (local.get $nb)))
          (if (i32.lt_u (local.get $j) (local.get $lim))
            (then (f32.store (i32.add (local.get $yr) (local.get $j)) (f32.div (f32.load (i32.add (local.get $yr) (local.get $j))) (local.get $s))))
            (else (f32.store (i32.add (local.get $yr) (local.get $j)) (f32.const 0))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $d1)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $each_row))))

;; y's outputs d .. d+3 from v, those below hd (the last one to three of an hd not a multiple of 4 alone).
  (func $store4 (param $yo i32) (param $d i32) (param $hd i32) (param $v v128)
    (local $p i32)
    (local.set $p (i32.add (local.get $yo) (i32.shl (local.get $d) (i32.const 2))))
    (if (i32.le_u (i32.add (local.get $d) (i32.const 4)) (local.get $hd)) (then (v128.store align=4 (local.get $p) (local.get $v)) (return)))
    (if (i32.ge_u (local.get $d) (local.get $hd)) (then (return)))
    (f32.store (local.get $p) (f32x4.extract_lane 0 (local.get $v)))
    (if (i32.lt_u (i32.add (local.get $d) (i32.const 1)) (local.get $hd)) (then (f32.store offset=4 (local.get $p) (f32x4.extract_lane 1 (local.get $v)))))
    (if (i32.lt_u (i32.add (local.get $d) (i32.const 2)) (local.get $hd)) (then (f32.store offset=8 (local.get $p) (f32x4.extract_lane 2 (local.get $v))))))

  ;; One decoding step of attention for every row b and head h at column $pos,
  ;; the keys and values cached in place. qkv [B, 3C] (C = H hd) holds the new
  ;; token's query, key and value; the key goes into kc [B, H, hd, $l] (stored
  ;; transposed: four columns' scores in one vector) at column $pos, the value
  ;; into vc [B, H, $l, $hd4] at row $pos ($l a multiple of 16, $hd4 of 4). Then
  ;; y[b, h hd ..] = softmax(q $scale . K^T + mask) V over columns 0 .. $pos,
  ;; columns below $pad[b] masked (-1e9 added; $pad 0: none). The same roundings
  ;; as the products (matMul.wat: each score and each output a chain of
  ;; multiply-adds from 0 in column order) and the softmax above give: the
  ;; numbers of the step done by those kernels on a cache grown by concatenation.
  ;; $s: scratch of $l + $hd4 floats.
  (func (export "attendStep") (param $qkv i32) (param $kc i32) (param $vc i32) (param $y i32) (param $pad i32)
    (param $rows i32) (param $heads i32) (param $hd i32) (param $l i32) (param $hd4 i32) (param $pos i32) (param $scale f32) (param $s i32)
    (local $b i32) (local $h i32) (local $d i32) (local $j i32) (local $n i32) (local $q i32) (local $kt i32) (local $vr i32) (local $yo i32)
    (local $cb i32) (local $qs i32) (local $p i32) (local $masked i32)
    (local $kp i32) (local $lb i32) (local $vb i32)
    (local $acc v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128) (local $a v128) (local $x v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local.set $n (i32.add (local.get $pos) (i32.const 1)))
    (local.set $lb (i32.shl (local.get $l) (i32.const 2))) ;; a key row, a value row, in bytes
    (local.set $vb (i32.shl (local.get $hd4) (i32.const 2)))
    (local.set $cb (i32.shl (i32.mul (local.get $heads) (local.get $hd)) (i32.const 2))) ;; C, in bytes
    (local.set $qs (i32.add (local.get $s) (i32.shl (local.get $l) (i32.const 2)))) ;; the scaled query, after the scores
    (local.set $b (i32.const 0))
    (block $rows_done (loop $each_b
      (br_if $rows_done (i32.ge_u (local.get $b) (local.get $rows)))
      (local.set $masked (i32.const 0))
      (if (local.get $pad) (then (local.set $masked (i32.load (i32.add (local.get $pad) (i32.shl (local.get $b) (i32.const 2)))))))
      (if (i32.gt_s (local.get $masked) (local.get $n)) (then (local.set $masked (local.get $n))))
      (local.set $h (i32.const 0))
      (block $heads_done (loop $each_h
        (br_if $heads_done (i32.ge_u (local.get $h) (local.get $heads)))
        (local.set $q (i32.add (local.get $qkv) (i32.add (i32.mul (local.get $b) (i32.mul (local.get $cb) (i32.const 3))) (i32.shl (i32.mul (local.get $h) (local.get $hd)) (i32.const 2)))))
        (local.set $p (i32.add (i32.mul (local.get $b) (local.get $heads)) (local.get $h)))
        (local.set $kt (i32.add (local.get $kc) (i32.shl (i32.mul (local.get $p) (i32.mul (local.get $hd) (local.get $l))) (i32.const 2))))
        (local.set $vr (i32.add (local.get $vc) (i32.shl (i32.mul (local.get $p) (i32.mul (local.get $l) (local.get $hd4))) (i32.const 2))))
        ;; the new key and value into the cache; the query scaled, as q.mul(scale) rounds it
        (local.set $d (i32.const 0))
        (block $new_done (loop $new
          (br_if $new_done (i32.ge_u (local.get $d) (local.get $hd)))
          (f32.store (i32.add (local.get $kt) (i32.shl (i32.add (i32.mul (local.get $d) (local.get $l)) (local.get $pos)) (i32.const 2)))
            (f32.load (i32.add (i32.add (local.get $q) (local.get $cb)) (i32.shl (local.get $d) (i32.const 2)))))
          (f32.store (i32.add (local.get $vr) (i32.shl (i32.add (i32.mul (local.get $pos) (local.get $hd4)) (local.get $d)) (i32.const 2)))
            (f32.load (i32.add (i32.add (local.get $q) (i32.shl (local.get $cb) (i32.const 1))) (i32.shl (local.get $d) (i32.const 2)))))
          (f32.store (i32.add (local.get $qs) (i32.shl (local.get $d) (i32.const 2)))
            (f32.mul (f32.load (i32.add (local.get $q) (i32.shl (local.get $d) (i32.const 2)))) (local.get $scale)))
          (local.set $d (i32.add (local.get $d) (i32.const 1)))
          (br $new)))
;; scores, sixteen columns at a time (four chains side by side, so no step waits on the last): each a chain over d from 0
        (local.set $j (i32.const 0))
        (block $scores_done (loop $scores
          (br_if $scores_done (i32.ge_u (local.get $j) (local.get $n)))
          (local.set $acc (v128.const i32x4 0 0 0 0)) (local.set $acc1 (v128.const i32x4 0 0 0 0)) (local.set $acc2 (v128.const i32x4 0 0 0 0)) (local.set $acc3 (v128.const i32x4 0 0 0 0))
          (local.set $kp (i32.add (local.get $kt) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $d (i32.const 0))
          (block $dots_done (loop $dots
            (br_if $dots_done (i32.ge_u (local.get $d) (local.get $hd)))
            (local.set $a (v128.load32_splat align=4 (i32.add (local.get $qs) (i32.shl (local.get $d) (i32.const 2)))))
            (local.set $x (v128.load offset=0 align=4 (local.get $kp)))
            (local.set $x1 (v128.load offset=16 align=4 (local.get $kp)))
            (local.set $x2 (v128.load offset=32 align=4 (local.get $kp)))
            (local.set $x3 (v128.load offset=48 align=4 (local.get $kp)))
            (local.set $acc (f32x4.relaxed_madd (local.get $a) (local.get $x) (local.get $acc)))
            (local.set $acc1 (f32x4.relaxed_madd (local.get $a) (local.get $x1) (local.get $acc1)))
            (local.set $acc2 (f32x4.relaxed_madd (local.get $a) (local.get $x2) (local.get $acc2)))
            (local.set $acc3 (f32x4.relaxed_madd (local.get $a) (local.get $x3) (local.get $acc3)))
            (local.set $kp (i32.add (local.get $kp) (local.get $lb)))
            (local.set $d (i32.add (local.get $d) (i32.const 1)))
            (br $dots)))
          (local.set $kp (i32.add (local.get $s) (i32.shl (local.get $j) (i32.const 2))))
          (v128.store offset=0 align=4 (local.get $kp) (local.get $acc))
          (v128.store offset=16 align=4 (local.get $kp) (local.get $acc1))
          (v128.store offset=32 align=4 (local.get $kp) (local.get $acc2))
          (v128.store offset=48 align=4 (local.get $kp) (local.get $acc3))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $scores)))
        ;; the padding's columns masked as the mask's sum masks them
        (local.set $j (i32.const 0))
        (block $mask_done (loop $mask
          (br_if $mask_done (i32.ge_s (local.get $j) (local.get $masked)))
          (f32.store (i32.add (local.get $s) (i32.shl (local.get $j) (i32.const 2)))
            (f32.add (f32.load (i32.add (local.get $s) (i32.shl (local.get $j) (i32.const 2)))) (f32.const -1e9)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $mask)))
        (call $softmax (local.get $s) (i32.const 0) (local.get $s) (i32.const 0) (i32.const 1) (local.get $n) (i32.const 1) (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0))
        ;; the weighted values, four of hd at a time: each a chain over the columns from 0
        (local.set $yo (i32.add (local.get $y) (i32.add (i32.mul (local.get $b) (local.get $cb)) (i32.shl (i32.mul (local.get $h) (local.get $hd)) (i32.const 2)))))
;; sixteen at a time while hd4 has them (four chains side by side), then four
        (local.set $d (i32.const 0))
        (block $outs16_done (loop $outs16
          (br_if $outs16_done (i32.gt_u (i32.add (local.get $d) (i32.const 16)) (local.get $hd4)))
          (local.set $acc (v128.const i32x4 0 0 0 0)) (local.set $acc1 (v128.const i32x4 0 0 0 0)) (local.set $acc2 (v128.const i32x4 0 0 0 0)) (local.set $acc3 (v128.const i32x4 0 0 0 0))
          (local.set $kp (i32.add (local.get $vr) (i32.shl (local.get $d) (i32.const 2))))
          (local.set $j (i32.const 0))
          (block $sum16_done (loop $sum16
            (br_if $sum16_done (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $a (v128.load32_splat align=4 (i32.add (local.get $s) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $x (v128.load offset=0 align=4 (local.get $kp)))
            (local.set $x1 (v128.load offset=16 align=4 (local.get $kp)))
            (local.set $x2 (v128.load offset=32 align=4 (local.get $kp)))
            (local.set $x3 (v128.load offset=48 align=4 (local.get $kp)))
            (local.set $acc (f32x4.relaxed_madd (local.get $a) (local.get $x) (local.get $acc)))
            (local.set $acc1 (f32x4.relaxed_madd (local.get $a) (local.get $x1) (local.get $acc1)))
            (local.set $acc2 (f32x4.relaxed_madd (local.get $a) (local.get $x2) (local.get $acc2)))
            (local.set $acc3 (f32x4.relaxed_madd (local.get $a) (local.get $x3) (local.get $acc3)))
            (local.set $kp (i32.add (local.get $kp) (local.get $vb)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $sum16)))
          (call $store4 (local.get $yo) (local.get $d) (local.get $hd) (local.get $acc))
          (call $store4 (local.get $yo) (i32.add (local.get $d) (i32.const 4)) (local.get $hd) (local.get $acc1))
          (call $store4 (local.get $yo) (i32.add (local.get $d) (i32.const 8)) (local.get $hd) (local.get $acc2))
          (call $store4 (local.get $yo) (i32.add (local.get $d) (i32.const 12)) (local.get $hd) (local.get $acc3))
          (local.set $d (i32.add (local.get $d) (i32.const 16)))
          (br $outs16)))
        (block $outs_done (loop $outs
          (br_if $outs_done (i32.ge_u (local.get $d) (local.get $hd)))
          (local.set $acc (v128.const i32x4 0 0 0 0))
          (local.set $kp (i32.add (local.get $vr) (i32.shl (local.get $d) (i32.const 2))))
          (local.set $j (i32.const 0))
          (block $sum_done (loop $sum
            (br_if $sum_done (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $a (v128.load32_splat align=4 (i32.add (local.get $s) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $x (v128.load align=4 (local.get $kp)))
            (local.set $acc (f32x4.relaxed_madd (local.get $a) (local.get $x) (local.get $acc)))
            (local.set $kp (i32.add (local.get $kp) (local.get $vb)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $sum)))
          (call $store4 (local.get $yo) (local.get $d) (local.get $hd) (local.get $acc))
          (local.set $d (i32.add (local.get $d) (i32.const 4)))
          (br $outs)))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $each_h)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $each_b)))
  )

;; dx = y (dy - sum(dy y)), row by row. $causal (with $t, as the softmax
  ;; takes them): a row's columns past its own get 0, and y and dy are not read
  ;; there past the vector holding its last column (y is 0 there, so the sum is
  ;; the same; dy must be finite in that vector's other lanes, as the causal
  ;; products leave it: they store zeros or the scores' true values).
  (func (export "softmaxGrad") (param $dy i32) (param $y i32) (param $dx i32) (param $rows i32) (param $n i32) (param $t i32) (param $causal i32)
    (local $r i32) (local $j i32) (local $nb i32) (local $n4 i32) (local $o i32) (local $lim i32) (local $eend i32)
    (local $acc v128) (local $s f32)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $n4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $each_row
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $o (i32.mul (local.get $r) (local.get $nb)))
        (local.set $lim (local.get $nb))
        (if (local.get $causal) (then (local.set $lim (i32.shl (i32.add (i32.rem_u (local.get $r) (local.get $t)) (i32.add (i32.sub (local.get $n) (local.get $t)) (i32.const 1))) (i32.const 2)))
          (if (i32.gt_u (local.get $lim) (local.get $nb)) (then (local.set $lim (local.get $nb))))))
        (local.set $eend (i32.and (i32.add (local.get $lim) (i32.const 12)) (i32.const -16)))
        (if (i32.gt_u (local.get $eend) (local.get $n4)) (then (local.set $eend (local.get $n4))))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $s4_done (loop $s4
          (br_if $s4_done (i32.ge_u (local.get $j) (local.get $eend)))
          (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load align=4 (i32.add (local.get $dy) (i32.add (local.get $o) (local.get $j)))) (v128.load align=4 (i32.add (local.get $y) (i32.add (local.get $o) (local.get $j)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $s4)))
        (local.set $s (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc))) (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (local.set $j (local.get $n4))
        (block $s1_done (loop $s1
          (br_if $s1_done (i32.ge_u (local.get $j) (local.get $lim)))
          (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (i32.add (local.get $dy) (i32.add (local.get $o) (local.get $j)))) (f32.load (i32.add (local.get $y) (i32.add (local.get $o) (local.get $j)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $s1)))
        (local.set $acc (f32x4.splat (local.get $s)))
        (local.set $j (i32.const 0))
        (block $g4_done (loop $g4
          (br_if $g4_done (i32.ge_u (local.get $j) (local.get $eend)))
          (v128.store align=4 (i32.add (local.get $dx) (i32.add (local.get $o) (local.get $j)))
            (f32x4.mul (v128.load align=4 (i32.add (local.get $y) (i32.add (local.get $o) (local.get $j))))
              (f32x4.sub (v128.load align=4 (i32.add (local.get $dy) (i32.add (local.get $o) (local.get $j)))) (local.get $acc))))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $g4)))
        (block $z4_done (loop $z4
          (br_if $z4_done (i32.ge_u (local.get $j) (local.get $n4)))
          (v128.store align=4 (i32.add (local.get $dx) (i32.add (local.get $o) (local.get $j))) (v128.const i32x4 0 0 0 0))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br $z4)))
        (block $g1_done (loop $g1
          (br_if $g1_done (i32.ge_u (local.get $j) (local.get $nb)))
          (if (i32.lt_u (local.get $j) (local.get $lim))
            (then (f32.store (i32.add (local.get $dx) (i32.add (local.get $o) (local.get $j)))
              (f32.mul (f32.load (i32.add (local.get $y) (i32.add (local.get $o) (local.get $j))))
                (f32.sub (f32.load (i32.add (local.get $dy) (i32.add (local.get $o) (local.get $j)))) (local.get $s)))))
            (else (f32.store (i32.add (local.get $dx) (i32.add (local.get $o) (local.get $j))) (f32.const 0))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $g1)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $each_row))))
)
